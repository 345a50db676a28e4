// The simulator's command line (sim/README.md), e.g.
//   npx tsx sim/run.ts --n 200 --hours 24 --offset 10 --drift 100 --jitter 2
// Options (defaults in sim/world.ts DEFAULTS): --n, --hours | --minutes | --seconds (steady
// period), --offset (s, ±), --drift (ppm, ±), --jitter (ms, ±), --loss (0..1), --seed, --cuts,
// --churn, --spi (SendPingInterval s), --pat (PeerAliveTimeout s), --radius (DampingFilterRadius),
// --tol (JitterTolerance ms), --mult (JitterToleranceMultiplier), --cooldown, --ac (ms),
// --sample (s between optimality samples), --json (print the result as JSON).
import { runScenario, type ScenarioResult } from './scenario.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const num = (name: string): number | undefined => {
  const v = opt(name);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) {
    console.error(`--${name}: expected a number, got ${v}`);
    process.exit(2);
  }
  return x;
};
const known = new Set(['n', 'hours', 'minutes', 'seconds', 'offset', 'drift', 'jitter', 'loss', 'seed', 'cuts', 'churn', 'spi', 'pat', 'radius', 'tol', 'mult', 'cooldown', 'ac', 'sample', 'json']);
for (const a of args) if (a.startsWith('--') && !known.has(a.slice(2))) {
  console.error(`unknown option ${a} (known: ${[...known].map((k) => `--${k}`).join(' ')})`);
  process.exit(2);
}

const steadyS = (num('hours') ?? 0) * 3600 + (num('minutes') ?? 0) * 60 + (num('seconds') ?? 0) || 600;
const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

const r: ScenarioResult = await runScenario({
  ...defined({
    n: num('n'),
    offsetS: num('offset'),
    driftPpm: num('drift'),
    jitterMs: num('jitter'),
    loss: num('loss'),
    seed: num('seed'),
    sendPingInterval: num('spi'),
    peerAliveTimeout: num('pat'),
    dampingFilterRadius: num('radius'),
    jitterToleranceMs: num('tol'),
    jitterToleranceMultiplier: num('mult'),
    recalculateCoolDown: num('cooldown'),
    acMs: num('ac'),
  }),
  steadyS,
  cuts: num('cuts') ?? 4,
  churn: num('churn') ?? 2,
  sampleS: num('sample'),
  log: (l) => process.stderr.write(`${l}\n`),
});

if (args.includes('--json')) {
  console.log(JSON.stringify(r, null, 2));
} else {
  const o = r.options;
  const f = (x: number, d = 2) => (Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  const med = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
  console.log(`simulator: N=${o.n}, ${f(r.steadyS / 3600, 2)} h steady, offsets ±${o.offsetS} s, drift ±${o.driftPpm} ppm, jitter ±${o.jitterMs} ms, loss ${o.loss}, SendPingInterval ${o.sendPingInterval} s, PeerAliveTimeout ${o.peerAliveTimeout} s, DampingFilterRadius ${o.dampingFilterRadius}, JitterTolerance ${o.jitterToleranceMs} ms x${o.jitterToleranceMultiplier}, seed ${o.seed}`);
  console.log(`  start -> full table                 ${f(r.startToFullTable)} s`);
  console.log(`  start -> every pair within tolerance ${f(r.startToOptimal)} s`);
  console.log(`  pairs within tolerance of optimal   ${f((100 * r.pairsWithin) / Math.max(1, r.pairsJudged), 3)} % (${r.pairsWithin}/${r.pairsJudged} over ${r.samples} samples; routed ${r.pairsRouted}; worst excess ${f(r.worstExcessMs)} ms)`);
  console.log(`  cut -> affected pairs rerouted      median ${f(med(r.reroutes))} s, max ${f(r.reroutes.length ? Math.max(...r.reroutes) : NaN)} s over ${r.reroutes.length} cut(s) [${r.reroutes.map((x) => f(x)).join(' ')}] (bound PeerAliveTimeout + SendPingInterval = ${o.peerAliveTimeout + o.sendPingInterval} s; affected pairs ${r.affected.join(' ')})`);
  console.log(`  node rejoin -> full table           [${r.rejoins.map((x) => f(x)).join(' ')}] s`);
  console.log(`  route changes per pair per hour     ${f(r.routeChangesPerPairHour, 4)} (outside event windows); recalculations ${f(r.recalcsPerHour, 0)}/h`);
  console.log(`  control bytes per node per second   pings ${f(r.pingBytesPerNodeS, 0)} B/s, to the supernode ${f(r.superBytesPerNodeS, 0)} B/s in ${f(r.superMsgsPerNodeS, 2)} msg/s`);
  console.log(`  supernode CPU (process CPU time)    ${f(100 * r.superCpuFraction, 2)} % of a core, ${f(r.superMsPerEdgeInterval, 4)} ms per edge per ping interval`);
  console.log(`  wall ${f(r.wallS, 1)} s, CPU ${f(r.cpuS, 1)} s: ${f(r.speedup, 1)} simulated seconds per CPU second`);
}
