import type { Transaction } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';
import type { CustomerRow, Customers } from '../../domain/customers/customers.ts';
import type { JobQueue } from '../../infra/jobs/queue.ts';
import type { Clock } from '../../infra/lib/clock.ts';

/**
 * KYC provider interface. `submit` runs inside the customer-creation transaction: it may decide
 * at once (returned decision) or schedule work (a job) that later calls `customers.decide`.
 */
export interface KycOutcome {
  decision?: 'APPROVE' | 'REJECT';
  remark?: string;
}

export interface KycProvider {
  readonly name: string;
  submit(tx: Transaction<DB>, customer: CustomerRow): Promise<KycOutcome>;
}

export const SANDBOX_KYC_JOB = 'kyc.sandbox.decide';

/** Sandbox rule: a name containing "reject" (any case) is rejected, anyone else approved. */
export function sandboxDecision(name: string): KycOutcome {
  return /reject/i.test(name)
    ? { decision: 'REJECT', remark: 'sandbox KYC: name contains "reject"' }
    : { decision: 'APPROVE', remark: 'sandbox KYC: auto-approved' };
}

/** Auto-decides after `delayMs` through the job queue; delay 0 decides inside the create. */
export function createSandboxKyc(deps: { jobs: JobQueue; clock: Clock; delayMs: number }): KycProvider {
  return {
    name: 'sandbox',
    async submit(tx, customer) {
      if (deps.delayMs === 0) return sandboxDecision(customer.name);
      await deps.jobs.enqueue(tx, {
        kind: SANDBOX_KYC_JOB,
        payload: { customerId: customer.id },
        runAt: new Date(deps.clock.now().getTime() + deps.delayMs),
        uniqueKey: `${SANDBOX_KYC_JOB}:${customer.id}`,
      });
      return {};
    },
  };
}

/** The sandbox provider's delayed decision: the job `submit` scheduled decides the customer by name. */
export function registerJobs(queue: Pick<JobQueue, 'register'>, deps: { customers: Pick<Customers, 'findById' | 'decide'> }): void {
  queue.register(SANDBOX_KYC_JOB, async (payload) => {
    const customerId = String(payload.customerId);
    const row = await deps.customers.findById(customerId);
    if (!row) return; // deleted test data: nothing to decide
    const outcome = sandboxDecision(row.name);
    if (outcome.decision) await deps.customers.decide(customerId, outcome.decision, outcome.remark ?? null);
  });
}
