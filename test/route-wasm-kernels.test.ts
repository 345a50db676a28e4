// The full solve's two kernels through the real WASM module (crates/eg-core/src/route/
// kernel_rows.rs and fw.rs, compiled with simd128: the row kernel's chunk relaxation, the one-hop
// keys and the tick rounding have WASM-only code paths): the row relaxation kernel forced on at
// every size must give exactly Floyd–Warshall's tables — next hops (ties broken by the lowest
// NodeID), both distance tables bit for bit — on graphs with exact ties, clock offsets (negative
// links), unreachable pairs and sizes that are not multiples of its 16-column chunks or 64-row
// blocks; and a negative cycle is repaired (or, when it cannot be, reported) alike.
import assert from 'node:assert/strict';
import { wasm } from '../ts/core/wasm.js';
import { rng as mulberry32 } from '../sim/engine.js';


interface Tables {
  ids: Uint16Array;
  next: Uint16Array;
  dist: bigint[];
  dna: bigint[];
}

type Link = [number, number, number, number]; // src, dst, latency s, AC s

function solveWith(minN: number, ids: number[], links: Link[]): Tables | string {
  const m = wasm();
  m.routeRowKernelMinN(minN);
  const g = new m.RouteGraph();
  try {
    g.setIncremental(false);
    for (const id of ids) g.addNode(id);
    const pairs = new Uint16Array(links.flatMap(([s, d]) => [s, d]));
    const values = new Float64Array(links.flatMap(([, , l, a]) => [l, a, 1e9]));
    g.setEdges(pairs, values);
    try {
      g.solve(0);
    } catch (e) {
      return (e as Error).message;
    }
    const bits = (x: Float64Array) => Array.from(new BigUint64Array(x.buffer, x.byteOffset, x.length));
    return { ids: g.nodeIds(), next: g.nextHops(), dist: bits(g.dist()), dna: bits(g.distNoAc()) };
  } finally {
    g.free();
    m.routeRowKernelMinN(640);
  }
}

describe('route kernels in WASM', () => {
  it('the row relaxation kernel gives exactly the tables of Floyd–Warshall (ties, offsets, sparse rows, odd sizes)', () => {
    const cases: Array<[number, number, boolean]> = [
      [17, 0.9, true],
      [70, 0.9, true],
      [97, 0.1, true],
      [129, 0.95, true],
      [129, 0.6, false],
      [200, 0.9, false],
      [300, 0.9, true],
    ];
    let seed = 1;
    for (const [n, density, coarse] of cases) {
      const rnd = mulberry32(seed++);
      const ids = Array.from({ length: n }, (_, i) => 2 + 3 * i);
      const off = ids.map(() => (Math.floor(rnd() * 17) - 8) / 128);
      const links: Link[] = [];
      for (let u = 0; u < n; u++) {
        for (let v = 0; v < n; v++) {
          if (u === v || rnd() >= density) continue;
          const t = coarse ? (1 + Math.floor(rnd() * 5)) / 64 : 0.0005 + rnd() * 0.3;
          const ac = [0, 0.01, 1 / 128][Math.floor(rnd() * 3)];
          links.push([ids[u], ids[v], t + off[v] - off[u], ac]);
        }
      }
      const rows = solveWith(0, ids, links);
      const fw = solveWith(0xffffffff, ids, links);
      assert.equal(typeof rows, 'object', `n=${n}: ${String(rows)}`);
      const [a, b] = [rows as Tables, fw as Tables];
      const ctx = `n=${n} density=${density} coarse=${coarse}`;
      assert.deepEqual(a.ids, b.ids, `${ctx}: ids`);
      // Not deepEqual on the tables: a difference would print millions of entries.
      const firstDiff = (x: ArrayLike<unknown>, y: ArrayLike<unknown>) => {
        for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return k;
        return x.length === y.length ? -1 : x.length;
      };
      assert.equal(firstDiff(a.next, b.next), -1, `${ctx}: next hops differ`);
      assert.equal(firstDiff(a.dist, b.dist), -1, `${ctx}: dist differs`);
      assert.equal(firstDiff(a.dna, b.dna), -1, `${ctx}: distNoAc differs`);
    }
  });

  it('a negative cycle is repaired alike by both kernels, and one that cannot be repaired is reported alike', () => {
    const ids = Array.from({ length: 40 }, (_, i) => 1 + i);
    const links: Link[] = [];
    for (const u of ids) for (const v of ids) if (u !== v) links.push([u, v, 0.01 + ((u * 7 + v) % 5) / 100, 0]);
    for (const l of links) {
      if ((l[0] === 3 && l[1] === 5) || (l[0] === 5 && l[1] === 9) || (l[0] === 9 && l[1] === 3)) l[2] = -0.05;
    }
    // Every node is measured both ways: the full solve raises the cycle's links and solves.
    const rows = solveWith(0, ids, links);
    const fw = solveWith(0xffffffff, ids, links);
    assert.equal(typeof rows, 'object', `repaired: ${String(rows)}`);
    assert.deepEqual(rows, fw);
    // 41 -> 42 -> 43 -> 41 measured one way only, 0.5 s short per link: no round trip to raise,
    // and more than the largest extra per link (64 ms) can make up.
    const lone: Link[] = [...links, [41, 42, -0.5, 0], [42, 43, -0.5, 0], [43, 41, -0.5, 0]];
    const ids2 = [...ids, 41, 42, 43];
    const rows2 = solveWith(0, ids2, lone);
    const fw2 = solveWith(0xffffffff, ids2, lone);
    assert.equal(typeof rows2, 'string');
    assert.match(rows2 as string, /negative cycle/);
    assert.equal(rows2, fw2);
  });
});
