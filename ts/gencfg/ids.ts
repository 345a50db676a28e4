// The NodeID list syntax of gencfg's `Edge Node: Node IDs`, e.g. `[1~10,11,19,55~66]`
// (upstream gencfg/gencfgSM.go ParseIDs), without upstream's int16 limit (IDs up to 32767) and
// without its refusal of ID 0 (its "duplicate" check compared against an initial maximum of 0).
import { NODE_ID_MAX } from '../config/index.js';

export class IdListError extends Error {}

/**
 * Parses `[a,b~c,...]` into the listed NodeIDs, ascending. Each element is an ID or an inclusive
 * range `a~b` with a < b; elements must be ascending without overlap; IDs are integers
 * 0..65531 (65532..65535 are reserved, docs/config.md). Spaces around elements are allowed.
 * Throws IdListError with a sentence naming the element and the rule it breaks.
 */
export function parseNodeIds(text: string): number[] {
  const s = text.trim();
  if (!s.startsWith('[') || !s.endsWith(']') || s.length < 2) {
    throw new IdListError('must be a list in brackets, like "[1~10,11,55~66]" (an ID or an inclusive range a~b per element)');
  }
  const body = s.slice(1, -1).trim();
  if (body === '') throw new IdListError('lists no NodeID; write at least one, like "[1~3]"');
  const ids: number[] = [];
  let prev = -1;
  const num = (t: string, el: string, pos: number): number => {
    const v = t.trim();
    if (!/^[0-9]+$/.test(v)) throw new IdListError(`element ${pos} "${el}": "${v}" is not a NodeID (a whole number 0..${NODE_ID_MAX})`);
    const n = Number(v);
    if (n > NODE_ID_MAX) throw new IdListError(`element ${pos} "${el}": NodeID ${n} is above ${NODE_ID_MAX} (65532..65535 are reserved for broadcast, spread, supernode and "no route")`);
    return n;
  };
  body.split(',').forEach((raw, i) => {
    const el = raw.trim();
    const pos = i + 1;
    if (el === '') throw new IdListError(`element ${pos} is empty (two commas in a row, or a trailing comma)`);
    let lo: number;
    let hi: number;
    const tilde = el.indexOf('~');
    if (tilde >= 0) {
      lo = num(el.slice(0, tilde), el, pos);
      hi = num(el.slice(tilde + 1), el, pos);
      if (lo >= hi) {
        throw new IdListError(`element ${pos} "${el}": a range must ascend (start < end); write ${hi}~${lo}${lo === hi ? ` or just ${lo}` : ''}`);
      }
    } else {
      lo = hi = num(el, el, pos);
    }
    if (lo <= prev) {
      throw new IdListError(lo >= (ids[0] ?? 0) && ids.includes(lo)
        ? `element ${pos} "${el}": NodeID ${lo} is listed twice`
        : `element ${pos} "${el}": the list must ascend, but ${lo} is not above ${prev}, the largest ID before it`);
    }
    for (let id = lo; id <= hi; id++) ids.push(id);
    prev = hi;
  });
  return ids;
}
