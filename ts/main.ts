#!/usr/bin/env node
import { main } from './cli/main.js';
import './cli/modes.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Anything reaching here is a bug, not a user error: keep the stack for the report.
    process.stderr.write(`etherguard: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 70;
  },
);
