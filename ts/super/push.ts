// Supernode → edge notices: ServerUpdate frames (kind 6, src 65533, dst = the edge, TTL 0) and
// the decision which state hashes an edge still has to pull.
import { HEADER_LEN, Kind, NODE_SUPER, writeHeader } from '../core/frame.js';
import { Action, encode, type ServerUpdateMsg } from '../proto/control.js';
import type { EdgeRec } from './state.js';

export function serverUpdateFrame(edgeId: number, action: Action, code: number, params: string): Uint8Array {
  const msg: ServerUpdateMsg = { v: 1, NodeID: edgeId, Action: action, Code: code, Params: params };
  const payload = encode(msg);
  const plain = new Uint8Array(HEADER_LEN + payload.length);
  writeHeader(plain, { kind: Kind.ServerUpdate, ttl: 0, dst: edgeId, src: NODE_SUPER, len: payload.length });
  plain.set(payload, HEADER_LEN);
  return plain;
}

export interface CurrentHashes {
  peer: string;
  nh: string;
  /** This edge's SuperParams hash. */
  params: string;
}

/** The Update notices an edge needs: every hash it has not acked, plus NhTable when forced. */
export function pendingUpdates(rec: EdgeRec, cur: CurrentHashes, forceNh: boolean): { action: Action; hash: string }[] {
  const out: { action: Action; hash: string }[] = [];
  if (rec.acked.peer !== cur.peer) out.push({ action: Action.UpdatePeer, hash: cur.peer });
  if (forceNh || rec.acked.nh !== cur.nh) out.push({ action: Action.UpdateNhTable, hash: cur.nh });
  if (rec.acked.params !== cur.params) out.push({ action: Action.UpdateSuperParams, hash: cur.params });
  return out;
}
