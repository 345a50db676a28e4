// `-mode edge`: load and validate the config, start the edge in its routing mode, stop cleanly
// on SIGINT/SIGTERM (interface removed, sockets closed, UAPI socket deleted).
import { CliArgs } from '../cli/args.js';
import { CliError } from '../cli/errors.js';
import { exampleEdgeConfig, loadEdgeConfig } from '../config/index.js';
import { holdSignals, loadConfig, untilSignal } from '../cli/lifecycle.js';
import { StaticRoutes } from '../core/table.js';
import { WasmNotBuiltError } from '../core/wasm.js';
import { Edge } from './edge.js';
import { Logger } from '../shared/log.js';
import { SuperClient } from './superclient.js';
import { P2PClient } from '../p2p/client.js';
import { coreSigner } from '../p2p/sign.js';
import { NtpSync } from '../ntp/sync.js';
import { testTimers } from '../wgnode/test-timers.js';
import { metricsListenOf, observe, type Observed } from '../metrics/wire.js';

export async function edgeMode(a: CliArgs): Promise<number> {
  if (a.example) {
    process.stdout.write(exampleEdgeConfig());
    return 0;
  }
  holdSignals();
  const cfg = loadConfig('edge', a.config, loadEdgeConfig, a.json);
  const log = new Logger(cfg.NodeName, cfg.LogLevel, a.json);
  const metricsListen = metricsListenOf(a.metrics, cfg.MetricsListen);
  const p2pMode = cfg.DynamicRoute.P2P.UseP2P;
  if (p2pMode && cfg.Peers.some((p) => p.PSKey)) {
    // As upstream (Peer.SetPSK is a no-op with UseP2P): discovered peers have no PSK, so a
    // configured one would make the two ends of a session disagree.
    log.info('P2P mode: Peers[].PSKey is ignored (edge-to-edge PSKs are not used in P2P mode, as upstream)');
  }
  if (!p2pMode && !cfg.DynamicRoute.SuperNode.UseSuperNode && cfg.Peers.length === 0) {
    // A static edge learns no peers; often a misspelt UseSuperNode/UseP2P (warned as an unknown key) is why.
    log.info('static mode with no Peers: this edge has no peer to send to (DynamicRoute.SuperNode.UseSuperNode and DynamicRoute.P2P.UseP2P are false)');
  }
  let routes: StaticRoutes;
  try {
    routes = new StaticRoutes(cfg.NextHopTable);
  } catch (e) {
    if (e instanceof WasmNotBuiltError) throw e;
    throw new CliError(`invalid config: ${a.config}: NextHopTable: ${(e as Error).message}`);
  }
  let client: SuperClient | undefined;
  let p2p: P2PClient | undefined;
  const edgeCfg = p2pMode ? { ...cfg, Peers: cfg.Peers.map((p) => ({ ...p, PSKey: '' })) } : cfg;
  const edge = new Edge(edgeCfg, { log, routes, uapi: !a.noUapi, timers: testTimers(), onControl: (h, p, from, rx) => (p2p ?? client)?.onControl(h, p, from, rx) });
  try {
    if (p2pMode) {
      p2p = new P2PClient(edge, cfg, { configPath: a.config, signer: coreSigner });
      edge.measurer = p2p;
    } else if (cfg.DynamicRoute.SuperNode.UseSuperNode) {
      client = new SuperClient(edge, cfg);
      client.addSuperPeers();
      const c = client;
      edge.measurer = c;
      edge.aliveTimeoutSource = () => c.aliveTimeoutS();
    }
    await edge.start();
    client?.start();
    p2p?.start();
  } catch (e) {
    await edge.stop().catch(() => {});
    throw new CliError(`cannot start edge ${cfg.NodeName}: ${(e as Error).message}`);
  }
  // NTP starts once the edge forwards: its rounds run in the background (ts/ntp/sync.ts).
  let ntp: NtpSync | undefined;
  const ntpCfg = cfg.DynamicRoute.NTPConfig;
  if (NtpSync.enabled(ntpCfg) && edge.clock.setNtpOffsetMs) {
    const setOffset = edge.clock.setNtpOffsetMs.bind(edge.clock);
    ntp = new NtpSync(ntpCfg, () => edge.clock.wallMs(), setOffset, (m, f) => log.cat('ntp', m, f));
    ntp.start();
  } else if (ntpCfg.UseNTP) {
    log.cat('ntp', 'NTP sync disabled: NTPConfig.Servers is empty');
  }
  let obs: Observed;
  try {
    obs = await observe({ listen: metricsListen, registry: async () => (await import('../metrics/registry.js')).edgeRegistry(() => edge.snapshot()), status: `edge ${cfg.NodeName} (node ${cfg.NodeID}) up` }, log);
  } catch (e) {
    ntp?.stop();
    client?.stop();
    p2p?.stop();
    await edge.stop().catch(() => {});
    throw e;
  }
  const stop = async () => {
    await obs.stop();
    ntp?.stop();
    client?.stop();
    p2p?.stop();
    await edge.stop();
  };
  // The interface deleted under us (a TAP removed with `ip link del`): reading can never work
  // again, so stop cleanly and exit 3; a supervisor (deploy/systemd: Restart=on-failure) starts
  // the edge again, which creates the device and runs PostScript anew.
  const gone = edge.interfaceGone.then(async (why) => {
    log.error(`${why}: the edge cannot forward without its interface; stopping, exit code 3`);
    await stop();
    return 3;
  });
  if (!client) return Promise.race([untilSignal(stop, log), gone]);
  // The supernode may end us (Shutdown → its code, e.g. 2 when removed; ThrowError → its code).
  return Promise.race([untilSignal(stop, log), gone, client.exited.then(async (code) => (await stop(), code))]);
}
