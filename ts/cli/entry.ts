// The program behind dist/main.js: runs the command line and turns its result into the exit code.
import { main } from './main.js';
import './modes.js';

// A reader that went away (`etherguard solve -example | head -1`) is not an error of ours: stop
// quietly, as other command-line tools do, instead of an unhandled 'error' event with a stack.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

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
