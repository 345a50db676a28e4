// A next-hop table as the edge forwards by it (static config or a table pulled from the
// supernode), checked by the route engine in WASM (reserved NodeIDs are refused). The edge hands
// `triples` to its data plane (WgDevice.setRoutes), which derives the broadcast sets itself
// (crates/eg-core/src/route/broadcast.rs); nextHop serves observers (metrics, status).
import { wasm } from './wasm.js';

export type TableRows = Record<string, Record<string, number>>;

export class StaticRoutes {
  private readonly t: InstanceType<ReturnType<typeof wasm>['NextHopTable']>;
  /** The rows as [src, dst, next, ...] (what WgDevice.setRoutes takes). */
  readonly triples: Uint16Array;

  /** Throws naming the problem for a row the route engine refuses (e.g. a reserved NodeID). */
  constructor(rows: TableRows) {
    const triples: number[] = [];
    for (const [s, row] of Object.entries(rows)) {
      for (const [d, n] of Object.entries(row ?? {})) triples.push(Number(s), Number(d), n);
    }
    this.triples = Uint16Array.from(triples);
    this.t = new (wasm().NextHopTable)(this.triples);
  }

  /** Next hop from src to dst, or undefined when the table has none (or says 65532). */
  nextHop(src: number, dst: number): number | undefined {
    const n = this.t.nextHop(src, dst);
    return n >= 65532 ? undefined : n;
  }
}
