// What every long-running mode shares: turning config errors into CLI errors, and stopping
// cleanly on SIGINT/SIGTERM.
import { ConfigError, formatWarning, type WarningSink } from '../config/index.js';
import { CliError, problemJson } from './errors.js';

/**
 * Loads a config with `load`, or throws a CliError listing every problem (exit 1; 2 without
 * -config). Warnings go to stderr as text, or as JSON lines with `json` (-json).
 */
export function loadConfig<T>(mode: string, path: string | undefined, load: (p: string, warn?: WarningSink) => T, json = false): T {
  if (!path) throw new CliError(`${mode} needs -config FILE (or -example to print an example config)`, 2);
  try {
    return load(path, json ? (_line, p) => process.stderr.write(problemJson('warning', p.message, path, p)) : undefined);
  } catch (e) {
    // The warnings of a refused file follow its errors: an unknown key there is often the
    // misspelling behind a "required but missing" error.
    if (e instanceof ConfigError) {
      throw new CliError(`invalid config:\n${[e.message, ...e.warnings.map((w) => formatWarning(e.file, w))].join('\n')}`, 1, { file: e.file, errors: e.problems, warnings: e.warnings });
    }
    throw e;
  }
}

// One listener per signal for the life of the process. Swapping listeners (off the start-up
// one, on the stop one) loses signals: libuv queues a signal for the handle that was listening
// when it arrived, and once `process.off` drops the last listener that handle is stopped and
// the queued signal is discarded, so a SIGTERM sent just after the "up" line did nothing
// (seen in CI under load; test/lifecycle.test.ts).
let early: NodeJS.Signals | undefined;
let onSignal: ((sig: NodeJS.Signals) => void) | undefined;
let held = false;
const exitCode = (sig: NodeJS.Signals): number => 128 + (sig === 'SIGINT' ? 2 : 15);
const dispatch = (sig: NodeJS.Signals): void => {
  if (onSignal) return onSignal(sig);
  // A second signal while start-up still runs: the user means it.
  if (early) process.exit(exitCode(sig));
  early = sig;
};

/**
 * Call before starting anything: a SIGINT/SIGTERM that arrives while a mode starts (after its
 * "up" line, say, while metrics are still being set up) is kept for untilSignal, which then
 * stops cleanly, instead of the default action killing the process half-started. A second
 * signal during start-up exits at once (130/143). Calling it again does nothing.
 */
export function holdSignals(): void {
  if (held) return;
  held = true;
  process.on('SIGINT', dispatch);
  process.on('SIGTERM', dispatch);
}

/**
 * Resolves with the exit code once a signal arrived and `stop` finished (1 if stop failed).
 * A second signal while `stop` runs exits at once with 130/143 (a stop that hangs can always be
 * cut short).
 */
export function untilSignal(stop: () => Promise<void>, log?: { info(m: string): void; error(m: string): void }): Promise<number> {
  holdSignals();
  return new Promise((resolve) => {
    let stopping = false;
    onSignal = (sig) => {
      if (stopping) process.exit(exitCode(sig));
      stopping = true;
      log?.info(`${sig}: stopping`);
      void stop().then(
        () => resolve(0),
        (e: Error) => {
          log?.error(`stop failed: ${e.message}`);
          resolve(1);
        },
      );
    };
    if (early) onSignal(early);
  });
}
