// What the edge API does (ts/super/api/edge.ts is its HTTP face): identify the edge, answer a
// pull when its hash is current (and record the ack), and check a signed report — token,
// signature, BodyHash, PostCount, frame — before any of it is applied (docs/control.md).
import type { PeerInfoBody, ReportResult, SuperParamsBody, NodeInfoReportIn } from '../proto/control.js';
import { decode, ProtoError } from '../proto/control.js';
import { verifyReport } from '../proto/jwt.js';
import type { EdgeApi, EdgeIdent } from './api/service.js';
import { Refused } from './config-rewrite.js';
import type { EdgeRec, PublicEdge } from './state.js';

/** The parts of the supernode the edge API reads and acks. */
export interface EdgeApiTarget {
  readonly edges: ReadonlyMap<number, EdgeRec>;
  peerState(): { hash: string; edges: PublicEdge[] };
  peerInfoBody(rec: EdgeRec, edges: PublicEdge[]): PeerInfoBody;
  readonly routes: { readonly hash: string; readonly nhJson: string };
  paramsState(rec: EdgeRec): { hash: string; body: SuperParamsBody };
  /** Applies an accepted report item by item (ts/super/links.ts). */
  applyReport(rec: EdgeRec, postCount: number, r: NodeInfoReportIn): ReportResult;
}

const stale = () => new Refused(404, 'State not correct (a newer state exists; wait for its notice)');

export class EdgeApiService implements EdgeApi {
  constructor(private readonly sn: EdgeApiTarget) {}

  /** The edge with this NodeID and PubKey, or the 404. */
  private identify(q: EdgeIdent): EdgeRec | Refused {
    const rec = this.sn.edges.get(q.NodeID);
    if (!rec || rec.removing) return new Refused(404, `NodeID ${q.NodeID} is not a peer of this supernode`);
    if (rec.conf.PubKey !== q.PubKey) return new Refused(404, `PubKey does not match NodeID ${q.NodeID}`);
    return rec;
  }

  peerInfo(q: EdgeIdent, state: string): PeerInfoBody | Refused {
    const rec = this.identify(q);
    if (rec instanceof Refused) return rec;
    const cur = this.sn.peerState();
    if (state !== cur.hash) return stale();
    rec.acked.peer = cur.hash;
    return this.sn.peerInfoBody(rec, cur.edges);
  }

  nhTable(q: EdgeIdent, state: string): string | Refused {
    const rec = this.identify(q);
    if (rec instanceof Refused) return rec;
    if (state !== this.sn.routes.hash) return stale();
    rec.acked.nh = this.sn.routes.hash;
    return this.sn.routes.nhJson;
  }

  superParams(q: EdgeIdent, state: string): SuperParamsBody | Refused {
    const rec = this.identify(q);
    if (rec instanceof Refused) return rec;
    const p = this.sn.paramsState(rec);
    if (state !== p.hash) return stale();
    rec.acked.params = p.hash;
    return p.body;
  }

  report(q: EdgeIdent, token: string | undefined, raw: Buffer | undefined): ReportResult | Refused {
    const rec = this.identify(q);
    if (rec instanceof Refused) return rec;
    if (!token) return new Refused(400, 'JWTSig missing (query parameter or Authorization: Bearer)');
    if (!rec.secret) return new Refused(400, `NodeID ${rec.conf.NodeID} has not registered yet (no JWT secret)`);
    if (!raw) return new Refused(400, 'body missing');
    const claims = verifyReport(rec.secret, token, raw);
    if (typeof claims === 'string') return new Refused(400, `JWTSig: ${claims}`);
    if (claims.PostCount < rec.postCount) return new Refused(409, `PostCount ${claims.PostCount} already used (next must be at least ${rec.postCount})`);
    let report;
    try {
      report = decode.nodeInfo(raw);
    } catch (e) {
      if (e instanceof ProtoError) return new Refused(400, e.message);
      throw e;
    }
    return this.sn.applyReport(rec, claims.PostCount, report);
  }
}
