#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step between `npm ci` and use.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
main(process.argv.slice(2)).catch((err) => {
  // A configuration problem is the operator's to fix: one line naming the setting, no stack trace.
  if (err?.name === 'ConfigError') {
    process.stderr.write(`openramp: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`openramp: ${err?.stack ?? err}\n`);
  process.exit(1);
});
