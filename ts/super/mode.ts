// `-mode super`: load and validate the supernode config, run the supernode, stop cleanly on
// SIGINT/SIGTERM (HTTP servers closed, UDP sockets closed, UAPI sockets removed).
import { CliArgs } from '../cli/args.js';
import { CliError } from '../cli/errors.js';
import { ConfigError, exampleSuperConfig, loadSuperConfig, type SuperConfig } from '../config/index.js';
import { WasmNotBuiltError } from '../core/wasm.js';
import { Logger } from '../edge/log.js';
import { Supernode } from './supernode.js';

function load(path: string | undefined): SuperConfig {
  if (!path) throw new CliError('super needs -config FILE (or -example to print an example config)', 2);
  try {
    return loadSuperConfig(path);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`invalid config:\n${e.message}`);
    throw e;
  }
}

export async function superMode(a: CliArgs): Promise<number> {
  if (a.example) {
    process.stdout.write(exampleSuperConfig());
    return 0;
  }
  const cfg = load(a.config);
  const log = new Logger(cfg.NodeName, cfg.LogLevel, a.json);
  const sn = new Supernode(cfg, { configPath: a.config, log, uapi: !a.noUapi });
  try {
    await sn.start();
  } catch (e) {
    await sn.stop().catch(() => undefined);
    if (e instanceof WasmNotBuiltError) throw e;
    throw new CliError(`cannot start supernode ${cfg.NodeName}: ${(e as Error).message}`);
  }
  return new Promise<number>((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      log.info(`${sig}: stopping`);
      void sn.stop().then(
        () => resolve(0),
        (e: Error) => {
          log.error(`stop failed: ${e.message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
