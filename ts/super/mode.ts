// `-mode super`: load and validate the supernode config, run the supernode, stop cleanly on
// SIGINT/SIGTERM (HTTP servers closed, UDP sockets closed, UAPI sockets removed).
import { CliArgs } from '../cli/args.js';
import { CliError } from '../cli/errors.js';
import { exampleSuperConfig, loadSuperConfig } from '../config/index.js';
import { holdSignals, loadConfig, untilSignal } from '../cli/lifecycle.js';
import { WasmNotBuiltError } from '../core/wasm.js';
import { Logger } from '../shared/log.js';
import { Supernode } from './supernode.js';
import { testTimers } from '../wgnode/test-timers.js';
import { superRegistry } from '../metrics/registry.js';
import { metricsListenOf, observe, type Observed } from '../metrics/wire.js';

export async function superMode(a: CliArgs): Promise<number> {
  if (a.example) {
    process.stdout.write(exampleSuperConfig());
    return 0;
  }
  holdSignals();
  const cfg = loadConfig('super', a.config, loadSuperConfig, a.json);
  const log = new Logger(cfg.NodeName, cfg.LogLevel, a.json);
  const metricsListen = metricsListenOf(a.metrics, cfg.MetricsListen);
  const sn = new Supernode(cfg, { configPath: a.config, log, uapi: !a.noUapi, timers: testTimers() });
  try {
    await sn.start();
  } catch (e) {
    await sn.stop().catch(() => undefined);
    if (e instanceof WasmNotBuiltError) throw e;
    throw new CliError(`cannot start supernode ${cfg.NodeName}: ${(e as Error).message}`);
  }
  let obs: Observed;
  try {
    obs = await observe({ listen: metricsListen, registry: () => superRegistry(() => sn.metricsSnapshot()), status: `supernode ${cfg.NodeName} up` }, log);
  } catch (e) {
    await sn.stop().catch(() => undefined);
    throw e;
  }
  return untilSignal(async () => {
    await obs.stop();
    await sn.stop();
    log.info('supernode stopped');
  }, log);
}
