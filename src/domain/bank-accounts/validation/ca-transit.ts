/** Canadian bank routing: the institution number (3 digits) and the transit, or branch, number (5 digits). */

export function isInstitutionNumber(s: string): boolean {
  return /^[0-9]{3}$/.test(s);
}

export function isTransitNumber(s: string): boolean {
  return /^[0-9]{5}$/.test(s);
}
