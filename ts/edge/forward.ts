// What an edge does with one authenticated inner packet: deliver it locally, hand it to the
// control plane, forward it (to which neighbours, with TTL−1), or drop it with a reason.
// Pure: the caller supplies the routing view and performs the I/O.
import { Header, Kind, NODE_BROADCAST, NODE_INVALID, NODE_SPREAD, NODE_SUPER } from './ids.js';

export interface RouteView {
  /** Next hop from src to dst, or undefined when the table has none. */
  nextHop(src: number, dst: number): number | undefined;
  /** Neighbours `me` sends its own broadcast to. */
  broadcastTargets(me: number): readonly number[];
  /** Neighbours `me` forwards a broadcast from `src` to, having received it from `from`. */
  forwardSet(me: number, src: number, from: number): readonly number[];
}

export interface Decision {
  deliver: boolean; // NormalPacket to the interface
  control: boolean; // a control message for this node
  forward: readonly number[]; // next hops (sent with TTL−1)
  flood: boolean; // forward to every peer but src and the sender (dst 65534)
  drop?: string; // why nothing (or not everything) was done
}

const NONE: readonly number[] = [];

/**
 * `from` is the NodeID of the WireGuard peer that delivered the packet; `fromSuper` whether
 * that peer is a supernode session.
 */
export function decide(h: Header, me: number, from: number, fromSuper: boolean, routes: RouteView): Decision {
  const d: { deliver: boolean; control: boolean; forward: readonly number[]; flood: boolean; drop?: string } = {
    deliver: false,
    control: false,
    forward: NONE,
    flood: false,
  };
  // A node never needs its own message back. One that returns went round a routing loop: forwarding
  // it again would repeat the loop until the TTL runs out (one frame becoming DefaultTTL copies),
  // and delivering it would echo our own frame into our interface.
  if (h.src === me) return { ...d, drop: `message from this node (NodeID ${me}) came back: a routing loop, or another node uses the same NodeID` };
  const forMe = h.dst === me || h.dst === NODE_BROADCAST || h.dst === NODE_SPREAD;
  switch (h.kind) {
    case Kind.Normal:
      d.deliver = forMe;
      break;
    case Kind.ServerUpdate:
      // Only a supernode session may tell us what to do, and such messages are never relayed.
      if (!fromSuper) return { ...d, drop: 'server update from a non-supernode peer' };
      if (h.dst !== me && h.dst !== NODE_SUPER) return { ...d, drop: `server update for node ${h.dst}` };
      return { ...d, control: true };
    case Kind.Register:
      return { ...d, drop: 'register message sent to an edge' };
    case Kind.Ping:
    case Kind.Pong:
    case Kind.QueryPeer:
    case Kind.BroadcastPeer:
      if (fromSuper) return { ...d, drop: `kind ${h.kind} from the supernode` };
      d.control = forMe;
      break;
    default:
      return { ...d, drop: `unknown message kind ${h.kind}` };
  }
  if (h.dst === me || h.dst === NODE_SUPER || h.dst === NODE_INVALID) {
    if (!forMe) return { ...d, drop: `message for reserved node ${h.dst}` };
    return d;
  }
  if (h.ttl === 0) {
    // Delivered/processed locally if addressed here, but never forwarded.
    if (!forMe) d.drop = 'TTL expired';
    return d;
  }
  if (h.dst === NODE_BROADCAST) {
    d.forward = routes.forwardSet(me, h.src, from);
  } else if (h.dst === NODE_SPREAD) {
    d.flood = true;
  } else {
    const nh = routes.nextHop(me, h.dst);
    if (nh === undefined || nh === NODE_INVALID) d.drop = `no route from ${me} to ${h.dst}`;
    else if (nh === from) d.drop = `route to ${h.dst} points back to the sender ${from} (routing loop)`;
    else d.forward = [nh];
  }
  return d;
}
