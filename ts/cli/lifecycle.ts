// What every long-running mode shares: turning config errors into CLI errors, and stopping
// cleanly on SIGINT/SIGTERM.
import { ConfigError } from '../config/index.js';
import { CliError } from './errors.js';

/** Loads a config with `load`, or throws a CliError listing every problem (exit 1; 2 without -config). */
export function loadConfig<T>(mode: string, path: string | undefined, load: (p: string) => T): T {
  if (!path) throw new CliError(`${mode} needs -config FILE (or -example to print an example config)`, 2);
  try {
    return load(path);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`invalid config:\n${e.message}`);
    throw e;
  }
}

/** Resolves with the exit code once a signal arrived and `stop` finished (1 if stop failed). */
export function untilSignal(stop: () => Promise<void>, log?: { info(m: string): void; error(m: string): void }): Promise<number> {
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
  });
}
