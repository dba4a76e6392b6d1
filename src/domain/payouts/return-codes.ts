import type { RailSpec } from '../../adapters/rails/rails.ts';

/** Rail return reason codes the sandbox bank (and the API) accept, by file family. */
export const RETURN_CODES: Record<'iso' | 'ach' | 'becs', Record<string, string>> = {
  iso: {
    AC01: 'Incorrect account number',
    AC04: 'Closed account number',
    AC06: 'Blocked account',
    AG01: 'Transaction forbidden on this account',
    AM05: 'Duplication',
    BE04: 'Missing creditor address',
    MD07: 'End customer deceased',
    MS02: 'Not specified reason (customer)',
    MS03: 'Not specified reason (agent)',
    RC01: 'Bank identifier incorrect',
  },
  ach: {
    R01: 'Insufficient funds',
    R02: 'Account closed',
    R03: 'No account / unable to locate account',
    R04: 'Invalid account number structure',
    R06: 'Returned per ODFI request',
    R16: 'Account frozen',
    R20: 'Non-transaction account',
    R23: 'Credit entry refused by receiver',
  },
  becs: {
    '1': 'Invalid BSB number',
    '2': 'Payment stopped',
    '3': 'Account closed',
    '4': 'Customer deceased',
    '5': 'No account / incorrect account number',
    '6': 'Refer to customer',
    '9': 'Technically invalid',
  },
};

export function returnCodeFamily(rail: RailSpec): 'iso' | 'ach' | 'becs' {
  if (rail.fileFormat === 'nacha') return 'ach';
  if (rail.fileFormat === 'aba') return 'becs';
  return 'iso';
}
