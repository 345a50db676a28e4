// One simulator run (sim/README.md): start-up, then a steady period under jitter with link cuts
// and node churn, judged against the ground truth. Used by sim/run.ts and test/sim.test.ts.
import { World, type SimOptions } from './world.js';
import { rng } from './engine.js';

export interface ScenarioOptions extends Partial<SimOptions> {
  /** Steady period after start-up, simulated seconds. */
  steadyS: number;
  /** Link cuts during the steady period (each cut both ways, restored after 3 × PeerAliveTimeout). */
  cuts?: number;
  /** Nodes that leave and come back (after 3 × PeerAliveTimeout) during the steady period. */
  churn?: number;
  /** Seconds between optimality samples (default: steadyS / 60, at most 60). */
  sampleS?: number;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

export interface ScenarioResult {
  options: SimOptions;
  steadyS: number;
  /** Simulated seconds from the first edge's start until the table has a next hop for every pair. */
  startToFullTable: number;
  /** Until every pair is on a path within tolerance of optimal. */
  startToOptimal: number;
  /** Optimality over the steady samples outside event windows: pairs judged, within tolerance, routed. */
  samples: number;
  pairsJudged: number;
  pairsWithin: number;
  pairsRouted: number;
  worstExcessMs: number;
  /** Per cut: seconds until every pair whose route used the link has a route that does not. */
  reroutes: number[];
  /** Affected pairs per cut. */
  affected: number[];
  /** Per rejoin: seconds until the table is full again. */
  rejoins: number[];
  /** Next-hop entry changes per ordered pair per hour, outside event windows (jitter, drift only). */
  routeChangesPerPairHour: number;
  /** Route recalculations per hour over the steady period. */
  recalcsPerHour: number;
  /** Wire bytes per node per second: pings to peers, messages to the supernode. */
  pingBytesPerNodeS: number;
  superBytesPerNodeS: number;
  superMsgsPerNodeS: number;
  /** Supernode busy time (its wall time × the process's CPU/wall ratio): fraction of one core, and ms per edge per ping interval. */
  superCpuFraction: number;
  superMsPerEdgeInterval: number;
  /** Wall and CPU seconds of the run, and simulated seconds per CPU second. */
  wallS: number;
  cpuS: number;
  speedup: number;
}

export async function runScenario(so: ScenarioOptions): Promise<ScenarioResult> {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const log = so.log ?? (() => undefined);
  const w = new World(so);
  const o = w.o;
  await w.setup();
  const sim = w.sim;
  try {
    // ---- start-up
    let startToFullTable = NaN;
    let startToOptimal = NaN;
    let opt = w.optimal();
    for (let t = 0.05; t <= 120; t += 0.05) {
      sim.run(t);
      if (!w.allJoined()) continue;
      if (Number.isNaN(startToFullTable) && w.fullTable()) startToFullTable = t;
      if (!Number.isNaN(startToFullTable) && Math.round(t * 20) % 5 === 0) {
        const j = w.judge(opt);
        if (j.within === j.pairs) {
          startToOptimal = t;
          break;
        }
      }
    }
    log(`N=${o.n}: full table at ${startToFullTable.toFixed(2)} s, every pair within tolerance at ${startToOptimal.toFixed(2)} s (wall ${((performance.now() - wall0) / 1000).toFixed(1)} s)`);

    // ---- steady period
    const t0 = Math.max(sim.now, 10) + 5;
    sim.run(t0);
    const pat = o.peerAliveTimeout;
    const steadyS = so.steadyS;
    const tEnd = t0 + steadyS;
    const sampleS = so.sampleS ?? Math.min(60, steadyS / 60);
    const busy0 = w.superBusy;
    const bytes0 = { ...w.bytes };
    const changes0 = w.sn.routes.history.changes;
    const recalc0 = w.sn.routes.recalculations;
    const windows: Array<[number, number]> = [];
    const events: Array<{ at: number; kind: 'cut' | 'churn' }> = [];
    const nCuts = so.cuts ?? 0;
    const nChurn = so.churn ?? 0;
    const slots = nCuts + nChurn;
    for (let i = 0; i < slots; i++) events.push({ at: t0 + ((i + 0.5) / slots) * steadyS * 0.9, kind: i % 2 === 0 && i / 2 < nCuts ? 'cut' : i < 2 * Math.min(nCuts, nChurn) ? 'churn' : nCuts > nChurn ? 'cut' : 'churn' });
    const res = { samples: 0, pairsJudged: 0, pairsWithin: 0, pairsRouted: 0, worstExcessMs: 0, reroutes: [] as number[], affected: [] as number[], rejoins: [] as number[], eventChanges: 0 };
    const inWindow = (t: number) => windows.some(([a, b]) => t >= a && t <= b);
    // Seeded apart from the world's own stream, so that a run's cuts and churn repeat with its seed.
    const eventRand = rng(o.seed + 7919);
    const pick = (xs: number[]) => xs[Math.floor(eventRand() * xs.length)];
    let nextSample = t0 + sampleS;
    let ei = 0;
    while (sim.now < tEnd - 1e-9) {
      const ev = events[ei];
      if (ev && ev.at <= nextSample) {
        sim.run(ev.at);
        ei++;
        const c0 = w.sn.routes.history.changes;
        const start = sim.now;
        if (ev.kind === 'cut') {
          // A link some route uses: the first hop of a random pair's route.
          const up = w.ids.filter((id) => w.isUp(id));
          let x = 0;
          let y = 0;
          for (let tries = 0; tries < 100 && x === y; tries++) {
            const a = pick(up);
            const b = pick(up);
            const nx = w.sn.routes.nhTable[a]?.[b];
            if (a !== b && nx !== undefined) [x, y] = [a, nx];
          }
          const affected = [...w.pairsUsing(x, y), ...w.pairsUsing(y, x)];
          w.cut(x, y);
          let done = NaN;
          for (let t = start + 0.05; t <= start + 3 * pat; t += 0.05) {
            sim.run(t);
            const table = w.sn.routes.nhTable;
            if (affected.every(([a, b]) => w.routeCost(table, a, b).cost < Infinity)) {
              done = t - start;
              break;
            }
          }
          res.reroutes.push(done);
          res.affected.push(affected.length);
          log(`  t=${(start - t0).toFixed(0)} s: cut ${x}<->${y}: ${affected.length} pair(s) rerouted after ${done.toFixed(2)} s`);
          sim.run(start + 3 * pat);
          w.cut(x, y, false);
        } else {
          const id = pick(w.ids.filter((i) => w.isUp(i)));
          w.leave(id);
          sim.run(start + 3 * pat);
          const back = sim.now;
          w.join(id);
          let done = NaN;
          for (let t = back + 0.05; t <= back + 30; t += 0.05) {
            sim.run(t);
            if (w.fullTable()) {
              done = t - back;
              break;
            }
          }
          res.rejoins.push(done);
          log(`  t=${(start - t0).toFixed(0)} s: node ${id} left, back after ${(3 * pat).toFixed(0)} s: full table ${done.toFixed(2)} s after its return`);
        }
        // Settle: links come back (restore) and filters refill; route changes until then belong to the event.
        const settle = sim.now + pat + 3 * o.sendPingInterval * (o.dampingFilterRadius + 1);
        sim.run(Math.min(settle, tEnd));
        windows.push([start, sim.now]);
        res.eventChanges += w.sn.routes.history.changes - c0;
        if (sim.now >= nextSample) nextSample = sim.now + sampleS;
        continue;
      }
      sim.run(Math.min(nextSample, tEnd));
      if (!inWindow(sim.now)) {
        opt = w.optimal();
        const j = w.judge(opt);
        res.samples++;
        res.pairsJudged += j.pairs;
        res.pairsWithin += j.within;
        res.pairsRouted += j.routed;
        res.worstExcessMs = Math.max(res.worstExcessMs, j.worstExcessMs);
      }
      nextSample += sampleS;
      // A running summary, so that a long run stopped early still reports what it saw.
      if (res.samples % 60 === 0 && res.samples > 0) {
        const calmSoFarH = Math.max(1e-9, (sim.now - t0 - windows.reduce((s, [a, b]) => s + (Math.min(b, sim.now) - a), 0)) / 3600);
        const changesPerPairHour = (w.sn.routes.history.changes - changes0 - res.eventChanges) / (o.n * (o.n - 1)) / calmSoFarH;
        log(
          `  t=${(sim.now - t0).toFixed(0)} s simulated, wall ${((performance.now() - wall0) / 1000).toFixed(0)} s: ` +
            `within tolerance ${((100 * res.pairsWithin) / Math.max(1, res.pairsJudged)).toFixed(3)} % (${res.pairsWithin}/${res.pairsJudged}, worst excess ${res.worstExcessMs.toFixed(2)} ms), ` +
            `route changes/pair/h ${changesPerPairHour.toFixed(4)}, reroutes [${res.reroutes.map((x) => x.toFixed(2)).join(' ')}] s, rejoins [${res.rejoins.map((x) => x.toFixed(2)).join(' ')}] s`,
        );
      }
    }
    const span = sim.now - t0;
    const windowS = windows.reduce((s, [a, b]) => s + (b - a), 0);
    const calmH = Math.max(1e-9, (span - windowS) / 3600);
    const pairs = o.n * (o.n - 1);
    const wallS = (performance.now() - wall0) / 1000;
    const cu = process.cpuUsage(cpu0);
    const cpuS = (cu.user + cu.system) / 1e6;
    // Supernode wall time scaled by the share of wall time this process was on a CPU.
    const busy = (w.superBusy - busy0) * Math.min(1, cpuS / wallS);
    return {
      options: o,
      steadyS: span,
      startToFullTable,
      startToOptimal,
      samples: res.samples,
      pairsJudged: res.pairsJudged,
      pairsWithin: res.pairsWithin,
      pairsRouted: res.pairsRouted,
      worstExcessMs: res.worstExcessMs,
      reroutes: res.reroutes,
      affected: res.affected,
      rejoins: res.rejoins,
      routeChangesPerPairHour: (w.sn.routes.history.changes - changes0 - res.eventChanges) / pairs / calmH,
      recalcsPerHour: ((w.sn.routes.recalculations - recalc0) / span) * 3600,
      pingBytesPerNodeS: (w.bytes.ping - bytes0.ping) / o.n / span,
      superBytesPerNodeS: (w.bytes.toSuper - bytes0.toSuper) / o.n / span,
      superMsgsPerNodeS: (w.bytes.superMsgs - bytes0.superMsgs) / o.n / span,
      superCpuFraction: busy / span,
      superMsPerEdgeInterval: (busy * 1000) / (o.n * (span / o.sendPingInterval)),
      wallS,
      cpuS,
      speedup: sim.now / cpuS,
    };
  } finally {
    w.stop();
  }
}
