// CPU per transport AEAD seal and open in WASM, A/B of builds given as directories (wasm-pack
// --target nodejs output; an old one made with `git archive <commit>` + wasm-pack), run
// interleaved in one process so machine load hits every build alike:
//   [BENCH_BODY=1424] [BENCH_SECONDS=1] node --import tsx bench/aead-cpu-ab.ts rounds dirA [dirB ...]
// Method (docs/benchmarks.md "ChaCha20 keystream"): `aeadRunJobs` on a batch of 128 packets of
// 1424 bytes (a 1420-byte frame padded to 16), each round ~1 s of calls per build and direction,
// CPU = process.cpuUsage (user + system) / packets; prints the median and minimum over rounds.
// Opens restore the batch from a sealed copy before each call (an open decrypts in place), in
// every build alike; seals run over their own output. Both include the copies wasm-bindgen makes
// of the batch into and out of WASM memory, as the worker pool's calls do.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const [roundsArg, ...dirs] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
if (dirs.length === 0) throw new Error('usage: aead-cpu-ab.ts rounds dirA [dirB ...]');
const PACKETS = 128;
const BODY = Number(process.env.BENCH_BODY ?? 1424); // padded plaintext bytes per packet (a multiple of 16)
const TAG = 16;
const req = createRequire(import.meta.url);

interface Mod {
  aeadRunJobs(data: Uint8Array, base: number, jobs: Uint8Array, seal: boolean): number;
  aeadJobLayout(): Uint32Array;
}

function jobTable(layout: Uint32Array, key: Uint8Array): Uint8Array {
  const [LEN, OFF, BODYF] = layout;
  const t = new Uint8Array(PACKETS * LEN);
  const dv = new DataView(t.buffer);
  for (let i = 0; i < PACKETS; i++) {
    const at = i * LEN;
    dv.setUint32(at + OFF, i * (BODY + TAG), true);
    dv.setUint32(at + BODYF, BODY, true);
    dv.setBigUint64(at + 8, BigInt(1000 + i), true); // counter (eg_core::session::aead::job::COUNTER)
    t.set(key, at + 32); // key (job::KEY)
  }
  return t;
}

const key = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const plain = new Uint8Array(PACKETS * (BODY + TAG)).map((_, i) => (i * 131 + 7) & 0xff);

const variants = dirs.map((d) => {
  const m = req(resolve(d, 'etherguard_wasm.js')) as Mod;
  const layout = m.aeadJobLayout();
  const template = jobTable(layout, key);
  const sealed = plain.slice();
  const jobs = template.slice();
  if (m.aeadRunJobs(sealed, 0, jobs, true) !== 0) throw new Error(`${d}: seal failed`);
  return { name: d, m, template, sealed, seal: [] as number[], open: [] as number[] };
});
// Every build must produce the same ciphertexts and tags.
for (const v of variants) {
  if (!v.sealed.every((x, i) => x === variants[0].sealed[i])) throw new Error(`${v.name}: sealed batch differs from ${variants[0].name}`);
}

/** Runs `fn` (one batch) for ~SECONDS; returns CPU µs per packet. */
function measure(fn: () => void): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    fn();
    calls++;
  }
  const cu = process.cpuUsage(c0);
  return (cu.user + cu.system) / (calls * PACKETS);
}

const sealStep = (v: (typeof variants)[number]) => {
  const data = plain.slice();
  return () => {
    const jobs = v.template.slice();
    if (v.m.aeadRunJobs(data, 0, jobs, true) !== 0) throw new Error('seal failed');
  };
};
const openStep = (v: (typeof variants)[number]) => {
  const data = v.sealed.slice();
  return () => {
    data.set(v.sealed);
    const jobs = v.template.slice();
    if (v.m.aeadRunJobs(data, 0, jobs, false) !== 0) throw new Error('open failed');
  };
};

// Warm-up: code tiered up, memory grown.
for (const v of variants) {
  const s = sealStep(v);
  const o = openStep(v);
  for (let i = 0; i < 50; i++) {
    s();
    o();
  }
}
for (let r = 0; r < rounds; r++) {
  // Order rotated per round so no build always runs first.
  const order = variants.map((_, i) => variants[(i + r) % variants.length]);
  for (const v of order) {
    v.seal.push(measure(sealStep(v)));
    v.open.push(measure(openStep(v)));
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${rounds} interleaved rounds x ${SECONDS} s, aeadRunJobs on ${PACKETS} x ${BODY}-byte packets, CPU us per packet; ciphertexts identical across builds`);
const base = variants[0];
for (const v of variants) {
  const ratio = (a: number[], b: number[]) => (v === base ? '' : ` (${((med(a) / med(b) - 1) * 100).toFixed(1)} %)`);
  console.log(
    `  ${v.name.padEnd(34)} seal median ${med(v.seal).toFixed(3)} min ${Math.min(...v.seal).toFixed(3)}${ratio(v.seal, base.seal)} | open median ${med(v.open).toFixed(3)} min ${Math.min(...v.open).toFixed(3)}${ratio(v.open, base.open)}`,
  );
  console.log(`    per round: seal ${v.seal.map((x) => x.toFixed(3)).join(' ')}; open ${v.open.map((x) => x.toFixed(3)).join(' ')}`);
}
