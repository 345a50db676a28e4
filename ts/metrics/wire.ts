// What `-mode edge` and `-mode super` do for observability once the node is up: the `-metrics`
// endpoint (flag, else the config's MetricsListen), and READY=1 / STOPPING=1 / watchdog pings
// to systemd (ts/service/sdnotify.ts). Kept here so the mode files only call two functions.
import { CliError } from '../cli/errors.js';
import type { Registry } from 'prom-client';
import { systemdNotifier } from '../service/sdnotify.js';
import { parseMetricsListen } from './listen.js';
import type { MetricsServer } from './server.js';

export interface Observed {
  /** Stops the metrics server and tells systemd we are stopping. */
  stop(): Promise<void>;
  metricsUrl?: string;
}

/**
 * Checks the metrics listen address before the node starts (a bad value is a usage error,
 * exit 2, naming the flag or the config key). Returns undefined when metrics are off.
 */
export function metricsListenOf(flag: string | undefined, configValue: string | undefined): { value: string; what: string } | undefined {
  const v = flag ?? (configValue || undefined);
  if (v === undefined) return undefined;
  const what = flag !== undefined ? '-metrics' : 'MetricsListen';
  try {
    parseMetricsListen(v, what);
  } catch (e) {
    throw new CliError((e as Error).message, flag !== undefined ? 2 : 1);
  }
  return { value: v, what };
}

/**
 * Starts the metrics endpoint (if asked for) and then notifies systemd that the node is ready:
 * called after the interface is up and every socket (UDP, UAPI, HTTP, metrics) is bound.
 */
export async function observe(
  o: { listen?: { value: string; what: string }; registry: () => Registry | Promise<Registry>; status: string },
  log: { info(m: string): void; error(m: string): void },
): Promise<Observed> {
  let server: MetricsServer | undefined;
  if (o.listen) {
    try {
      // Loaded only when metrics are served: fastify and prom-client cost every other start
      // ~100 ms of CPU.
      const { startMetrics } = await import('./server.js');
      server = await startMetrics(await o.registry(), parseMetricsListen(o.listen.value, o.listen.what), (m) => log.error(m));
    } catch (e) {
      throw new CliError(`cannot serve metrics on ${o.listen.value} (${o.listen.what}): ${(e as Error).message}`);
    }
    log.info(`metrics at ${server.url}/metrics`);
  }
  const sd = systemdNotifier((m) => log.error(m));
  sd.ready(o.status);
  return {
    metricsUrl: server?.url,
    async stop() {
      sd.stopping();
      await server?.close();
    },
  };
}
