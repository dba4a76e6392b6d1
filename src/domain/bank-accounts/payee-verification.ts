/**
 * Payee verification: does the name on the bank account match the customer? Modelled on
 * Confirmation of Payee (UK) and Verification of Payee (SEPA), which answer MATCH, CLOSE_MATCH
 * or NO_MATCH. Here the check is against the customer's KYC name; a bank-side provider can
 * implement the same interface later.
 */
export type PayeeMatch = 'MATCH' | 'CLOSE_MATCH' | 'NO_MATCH';

export interface PayeeVerifier {
  verify(input: { customerName: string; isIndividual: boolean; accountName: string }): PayeeMatch;
}

const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'madam']);
const COMPANY_SUFFIXES = new Set([
  'ltd',
  'limited',
  'llc',
  'inc',
  'incorporated',
  'corp',
  'corporation',
  'gmbh',
  'ag',
  'plc',
  'co',
  'company',
  'sa',
  'sas',
  'bv',
  'nv',
  'pty',
  'pte',
  'srl',
  'spa',
  'llp',
  'lp',
]);

export function nameTokens(name: string, isIndividual: boolean): string[] {
  const ascii = name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const tokens = ascii.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const drop = isIndividual ? TITLES : COMPANY_SUFFIXES;
  return tokens.filter((t) => !drop.has(t));
}

export function matchNames(customerName: string, accountName: string, isIndividual: boolean): PayeeMatch {
  const a = nameTokens(customerName, isIndividual);
  const b = nameTokens(accountName, isIndividual);
  if (a.length === 0 || b.length === 0) return 'NO_MATCH';
  const sorted = (x: string[]) => [...x].sort().join(' ');
  if (sorted(a) === sorted(b)) return 'MATCH';
  if (!isIndividual) return a.join('') === b.join('') ? 'CLOSE_MATCH' : 'NO_MATCH';
  // Individuals: same first and last name with middle names added or dropped, or an initial for
  // the first name ("J Doe" for "John Doe"), is a close match.
  const [af, al] = [a[0]!, a[a.length - 1]!];
  const [bf, bl] = [b[0]!, b[b.length - 1]!];
  if (al === bl && (af === bf || (bf.length === 1 && af.startsWith(bf)) || (af.length === 1 && bf.startsWith(af)))) return 'CLOSE_MATCH';
  return 'NO_MATCH';
}

export const nameMatchVerifier: PayeeVerifier = {
  verify: ({ customerName, accountName, isIndividual }) => matchNames(customerName, accountName, isIndividual),
};
