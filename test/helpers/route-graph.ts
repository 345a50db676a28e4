// What two WASM RouteGraphs must agree on after a solve, for tests that compare a graph against
// a twin solved another way (full vs incremental, reported again vs not).
import assert from 'node:assert/strict';
import type { wasm } from '../../ts/core/wasm.js';

export type RawRouteGraph = InstanceType<ReturnType<typeof wasm>['RouteGraph']>;

const bits = (x: Float64Array) => Array.from(new BigUint64Array(x.buffer, x.byteOffset, x.length));

/** Same ids, next hops, both distance tables and solve snapshot, bit for bit. */
export function assertSameSolution(a: RawRouteGraph, b: RawRouteGraph, ctx: string): void {
  assert.deepEqual(a.nodeIds(), b.nodeIds(), `${ctx}: ids`);
  assert.deepEqual(a.nextHops(), b.nextHops(), `${ctx}: next hops`);
  assert.deepEqual(bits(a.dist()), bits(b.dist()), `${ctx}: dist`);
  assert.deepEqual(bits(a.distNoAc()), bits(b.distNoAc()), `${ctx}: distNoAc`);
  assert.deepEqual(a.solvedEdgePairs(), b.solvedEdgePairs(), `${ctx}: snapshot pairs`);
  assert.deepEqual(bits(a.solvedEdgeWeights()), bits(b.solvedEdgeWeights()), `${ctx}: snapshot weights`);
}
