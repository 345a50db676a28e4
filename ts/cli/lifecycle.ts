// What every long-running mode shares: turning config errors into CLI errors, and stopping
// cleanly on SIGINT/SIGTERM.
import { ConfigError, formatWarning } from '../config/index.js';
import { CliError } from './errors.js';

/** Loads a config with `load`, or throws a CliError listing every problem (exit 1; 2 without -config). */
export function loadConfig<T>(mode: string, path: string | undefined, load: (p: string) => T): T {
  if (!path) throw new CliError(`${mode} needs -config FILE (or -example to print an example config)`, 2);
  try {
    return load(path);
  } catch (e) {
    // The warnings of a refused file follow its errors: an unknown key there is often the
    // misspelling behind a "required but missing" error.
    if (e instanceof ConfigError) throw new CliError(`invalid config:\n${[e.message, ...e.warnings.map((w) => formatWarning(e.file, w))].join('\n')}`);
    throw e;
  }
}

let early: NodeJS.Signals | undefined;
const remember = (sig: NodeJS.Signals): void => {
  // A second signal while start-up still runs: the user means it.
  if (early) process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  early = sig;
};

/**
 * Call before starting anything: a SIGINT/SIGTERM that arrives while a mode starts (after its
 * "up" line, say, while metrics are still being set up) is kept for untilSignal, which then
 * stops cleanly, instead of the default action killing the process half-started. A second
 * signal during start-up exits at once (130/143).
 */
export function holdSignals(): void {
  process.on('SIGINT', remember);
  process.on('SIGTERM', remember);
}

/** Resolves with the exit code once a signal arrived and `stop` finished (1 if stop failed). */
export function untilSignal(stop: () => Promise<void>, log?: { info(m: string): void; error(m: string): void }): Promise<number> {
  process.off('SIGINT', remember);
  process.off('SIGTERM', remember);
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      log?.info(`${sig}: stopping`);
      void stop().then(
        () => resolve(0),
        (e: Error) => {
          log?.error(`stop failed: ${e.message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    if (early) on(early);
  });
}
