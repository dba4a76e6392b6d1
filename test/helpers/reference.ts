import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The contract's reference files (the OpenAPI document, the integration guide with its sample
 * clients, the ISO 20022 schemas) are not part of this repository: tests read them at test time
 * from `OPENRAMP_REFERENCE_DIR`, by default `<repo>/../shared/reference`. A test that needs one
 * skips (reported as skipped, with one line saying which file and where it looked) when the
 * file is absent, so a fresh clone passes on its own; `.ci/run` provides the folder.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const REFERENCE_DIR = path.resolve(process.env.OPENRAMP_REFERENCE_DIR || path.join(repoRoot, '../shared/reference'));

/** The reference files the suite reads, relative to REFERENCE_DIR. */
export const REFERENCE = {
  contract: 'coinut-openapi.json',
  guide: 'offramp-integration-guide.md',
  epcXsd: 'iso20022/pain.001.001.09-EPC132-08-2023-SCT-C2PSP.xsd',
} as const;

/** Where a reference file is expected, whether or not it is there (for messages and defaults). */
export function referencePath(file: string): string {
  return path.join(REFERENCE_DIR, file);
}

/** The path of a reference file, or undefined when it is not in REFERENCE_DIR. */
export function referenceFile(file: string): string | undefined {
  const p = referencePath(file);
  return existsSync(p) ? p : undefined;
}

/**
 * The value for node:test's `skip` option: false when every file is present, else the one line
 * the runner prints beside the skipped suite or test. `what` names what is skipped.
 */
export function skipWithoutReference(what: string, ...files: string[]): string | false {
  const missing = files.find((f) => referenceFile(f) === undefined);
  if (missing === undefined) return false;
  return `skipped: ${what} — reference file ${missing} not found in ${REFERENCE_DIR}; set OPENRAMP_REFERENCE_DIR to the folder holding the contract's reference files`;
}
