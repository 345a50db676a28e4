// Constant clock offsets between nodes — a wrong time zone (hours), a clock a year off, a device
// whose clock starts at 1970 — must route exactly like no offset: a one-way measurement
// m(u→v) = true + off(v) − off(u) is accepted at any size a clock can produce, and the
// supernode's next-hop table is the same. (The engine's own properties: crates/eg-core/tests/route_offsets.rs.)
import assert from 'node:assert/strict';
import { decode, ProtoError } from '../ts/proto/control.js';
import { RouteState } from '../ts/super/routes.js';

const graphCfg = { StaticMode: false, ManualLatency: {}, JitterTolerance: 30, JitterToleranceMultiplier: 1.01, TimeoutCheckInterval: 5, RecalculateCoolDown: 0 };

const H2 = 7200;
const YEAR = 31_536_000;
const BOOT_1970 = -1_767_225_600; // a clock at 1970-01-01 while the others read 2026-01-01

// True one-way latencies (s) of five nodes, multiples of 2^-10 s (exact in f64 even with an
// offset of 56 years added): asymmetric, so several routes take a relay, and one link is
// measured in one direction only.
const IDS = [1, 2, 3, 4, 5];
const ms = (k: number) => k / 1024;
const TRUE: Array<[number, number, number]> = [
  [1, 2, ms(2)], [2, 1, ms(2)],
  [1, 3, ms(40)], [3, 1, ms(3)],
  [2, 3, ms(4)], [3, 2, ms(30)],
  [1, 4, ms(9)], [4, 1, ms(9)],
  [4, 3, ms(5)], [3, 4, ms(5)],
  [2, 5, ms(7)], [5, 2, ms(6)],
  [5, 3, ms(1)],
  [4, 5, ms(20)], [5, 4, ms(2)],
];
const AC_MS: Record<number, number> = { 1: 0, 2: 1, 3: 0, 4: 2, 5: 0 };

function solveWith(off: Record<number, number>): { r: RouteState; table: unknown } {
  const r = new RouteState(graphCfg, {}, 'salt', (m) => assert.fail(m));
  for (const id of IDS) r.addNode(id);
  for (const [s, d, t] of TRUE) r.applyPong(s, d, t + off[d] - off[s], AC_MS[d], 70, 0);
  assert.equal(r.check(0), true, 'a first table is published');
  return { r, table: r.nhTable };
}

describe('clock offsets of any size route like none', () => {
  const zero = Object.fromEntries(IDS.map((id) => [id, 0]));
  let base: ReturnType<typeof solveWith>;
  before(() => {
    base = solveWith(zero);
    // The example is not trivial: some routes take a relay.
    const t = base.table as Record<string, Record<string, number>>;
    assert.equal(t['1']['3'], 2);
    assert.equal(t['3']['2'], 1);
  });
  after(() => base.r.free());

  const cases: Array<[string, Record<number, number>]> = [
    ['node 3 two hours behind', { ...zero, 3: -H2 }],
    ['node 2 two hours ahead', { ...zero, 2: H2 }],
    ['node 4 a year ahead', { ...zero, 4: YEAR }],
    ['node 5 a year behind', { ...zero, 5: -YEAR }],
    ['node 1 booted at 1970', { ...zero, 1: BOOT_1970 }],
    ['-2 h, +1 year and 1970 at once', { 1: 0, 2: -H2, 3: YEAR, 4: BOOT_1970, 5: 3 }],
  ];
  for (const [name, off] of cases) {
    it(`${name}: same next-hop table; Dist differs exactly by off(dst) - off(src)`, () => {
      const { r, table } = solveWith(off);
      try {
        assert.deepEqual(table, base.table);
        const v = r.view(0);
        const v0 = base.r.view(0);
        for (const s of IDS) {
          for (const d of IDS) {
            if (s === d) continue;
            assert.ok(Math.abs(v.Dist[s][d] - (off[d] - off[s]) - v0.Dist[s][d]) < 1e-6, `Dist ${s}->${d}`);
            if (v0.Edges[s]?.[d] !== undefined) assert.equal(v.Edges[s][d], v0.Edges[s][d] + off[d] - off[s], `Edges ${s}->${d} is the measured value`);
            else assert.equal(v.Edges[s]?.[d], undefined, `no edge ${s}->${d}: not listed`);
          }
        }
      } finally {
        r.free();
      }
    });
  }

  it('the state marks "no edge" with a number above every measured value (99999 when they are small)', () => {
    assert.equal(base.r.view(0).Infinity, 99999);
    const { r } = solveWith({ ...zero, 4: YEAR });
    try {
      const v = r.view(0);
      assert.ok(v.Edges['1']['4'] > 99999, 'a measurement into the node a year ahead');
      for (const t of [v.Edges, v.Edges_Nh, v.Dist, v.Dist_noAC]) for (const row of Object.values(t)) for (const x of Object.values(row)) assert.ok(x <= v.Infinity && Number.isFinite(x));
      assert.ok(v.Infinity > YEAR + 1);
      assert.equal(v.Edges['5']['3'], ms(1));
      assert.equal(v.Edges['3']?.['5'], undefined, 'never measured: not listed');
    } finally {
      r.free();
    }
  });

  it('Pong accepts any Timediff two clocks can produce and names the field otherwise', () => {
    const pong = (Timediff: number) => decode.pong(JSON.stringify({ v: 1, Src: 1, Dst: 2, Timediff, TimeToAlive: 70, AdditionalCost: 0 }));
    for (const x of [-H2, H2, YEAR, -YEAR, BOOT_1970, -BOOT_1970, 1.7e13, -1.7e13, 0.00003]) assert.equal(pong(x).Timediff, x);
    for (const x of [2e13, -2e13, 1e300]) {
      assert.throws(() => pong(x), (e: Error) => e instanceof ProtoError && /Timediff must be [<>]= -?17280000000000/.test(e.message));
    }
  });

  it('Pong accepts TimeToAlive and AdditionalCost of any size a config can give', () => {
    const pong = (TimeToAlive: number, AdditionalCost: number) => decode.pong(JSON.stringify({ v: 1, Src: 1, Dst: 2, Timediff: 0.001, TimeToAlive, AdditionalCost }));
    assert.equal(pong(2e6, 0).TimeToAlive, 2e6);
    assert.equal(pong(70, 5e6).AdditionalCost, 5e6);
    assert.equal(pong(70, -5).AdditionalCost, -5);
    assert.throws(() => pong(-1, 0), /TimeToAlive must be >= 0/);
  });
});
