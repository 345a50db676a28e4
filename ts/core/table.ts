// A next-hop table as the edge forwards by it (static config or a table pulled from the
// supernode). Broadcast sets come from the route engine in WASM and are cached per (src, from),
// so the per-packet cost is a Map lookup.
import { wasm } from './wasm.js';

export type TableRows = Record<string, Record<string, number>>;
const NONE = 65532;

export class StaticRoutes {
  private readonly t: InstanceType<ReturnType<typeof wasm>['NextHopTable']>;
  private readonly next = new Map<number, number>();
  private readonly fwd = new Map<number, readonly number[]>();
  private readonly targets = new Map<number, readonly number[]>();

  constructor(rows: TableRows) {
    const triples: number[] = [];
    for (const [s, row] of Object.entries(rows)) {
      for (const [d, n] of Object.entries(row ?? {})) {
        triples.push(Number(s), Number(d), n);
        this.next.set(Number(s) * 65536 + Number(d), n);
      }
    }
    this.t = new (wasm().NextHopTable)(Uint16Array.from(triples));
  }

  nextHop(src: number, dst: number): number | undefined {
    const n = this.next.get(src * 65536 + dst);
    return n === undefined || n === NONE ? undefined : n;
  }

  broadcastTargets(me: number): readonly number[] {
    let t = this.targets.get(me);
    if (!t) {
      t = [...this.t.broadcastTargets(me)];
      this.targets.set(me, t);
    }
    return t;
  }

  forwardSet(me: number, src: number, from: number): readonly number[] {
    const k = (me * 65536 + src) * 65536 + from;
    let s = this.fwd.get(k);
    if (!s) {
      s = [...this.t.forwardSet(me, src, from)];
      this.fwd.set(k, s);
    }
    return s;
  }
}
