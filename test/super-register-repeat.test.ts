// An edge sends the same Register every interval; the supernode skips the parse of a Register
// whose bytes it has already decoded (ts/super/sessions.ts). Everything a Register means must
// still happen on every one: liveness, the acked hashes, the post counter rule (a new JWT secret
// restarts it, the same one never lowers it), the NodeID and version checks, and a Register that
// differs in one byte, or is malformed, after a good one is decoded and judged on its own.
import assert from 'node:assert/strict';
import { generateKeyPair, parseSuperConfig, type SuperPeerInfo } from '../ts/config/index.js';
import { HEADER_LEN, Kind, NODE_SUPER, writeHeader } from '../ts/core/frame.js';
import { PACKAGE_VERSION } from '../ts/paths.js';
import { encode, type RegisterMsg } from '../ts/proto/control.js';
import type { Scheduler } from '../ts/scheduler.js';
import { Logger } from '../ts/shared/log.js';
import { Supernode } from '../ts/super/supernode.js';
import type { Peer } from '../ts/wgnode/peers.js';

describe('supernode: the same Register again', () => {
  it('is applied in full each time, and a changed or broken one is decoded and judged afresh', async () => {
    const k = generateKeyPair();
    const k6 = generateKeyPair();
    const cfg = parseSuperConfig(`NodeName: RegSN\nPrivKeyV4: ${k.privateKey}\nPrivKeyV6: ${k6.privateKey}\nPeers: []\n`, 'reg.yaml', () => {});
    const drops: string[] = [];
    const log = new Logger('reg', { LogLevel: 'silent', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false });
    log.drop = (r: string) => void drops.push(r);
    let now = 100;
    const clock = { now: () => now, wallMs: () => 1.7e12 + now * 1000 };
    const sched: Scheduler = { every: () => ({ cancel: () => undefined }), after: () => ({ cancel: () => undefined }) };
    const sn = new Supernode(cfg, { log, clock, uapi: false, scheduler: sched });
    const conf = (id: number): SuperPeerInfo => ({ NodeID: id, Name: `n${id}`, PubKey: generateKeyPair().publicKey, PSKey: '', AdditionalCost: 0, SkipLocalIP: true, EndPoint: '', ExternalIP: '' });
    for (const id of [1, 2]) await sn.addEdge(conf(id));
    const from = (id: number) => ({ nodeId: id, endpoint: { address: '10.0.0.1', port: 1, family: 4 } }) as unknown as Peer;
    const send = (src: number, payload: Uint8Array) => {
      const p = new Uint8Array(HEADER_LEN + payload.length);
      writeHeader(p, { kind: Kind.Register, ttl: 0, dst: NODE_SUPER, src, len: payload.length });
      p.set(payload, HEADER_LEN);
      sn.receive(4, p, from(src));
    };
    const secretA = Buffer.alloc(32, 1).toString('base64');
    const secretB = Buffer.alloc(32, 2).toString('base64');
    const reg = (o: Partial<RegisterMsg>): RegisterMsg => ({ v: 1, NodeID: 1, Version: PACKAGE_VERSION, PeerStateHash: 'p1', NhStateHash: 'n1', SuperParamStateHash: 's1', JWTSecret: secretA, HttpPostCount: 5, ...o });
    const rec = sn.edges.get(1)!;

    send(1, encode(reg({})));
    assert.equal(sn.controlStats.registers, 1);
    assert.equal(rec.postCount, 5);
    assert.deepEqual(rec.acked, { peer: 'p1', nh: 'n1', params: 's1' });
    // A report raised the post counter meanwhile; the same Register (same secret) must not lower it.
    rec.postCount = 9;
    now = 101;
    send(1, encode(reg({})));
    assert.equal(sn.controlStats.registers, 2, 'the repeated Register counted');
    assert.equal(rec.lastSeen, 101, 'and refreshed liveness');
    assert.equal(rec.postCount, 9, 'the same secret never lowers the post counter');
    rec.acked = { peer: '', nh: '', params: '' };
    send(1, encode(reg({})));
    assert.deepEqual(rec.acked, { peer: 'p1', nh: 'n1', params: 's1' }, 'the acked hashes are set again from the repeated Register');

    // One field differs: decoded, its values applied.
    send(1, encode(reg({ NhStateHash: 'n2' })));
    assert.equal(rec.acked.nh, 'n2');
    // A new secret is a new edge process: the counter restarts from the Register's.
    send(1, encode(reg({ NhStateHash: 'n2', JWTSecret: secretB, HttpPostCount: 0 })));
    assert.equal(rec.postCount, 0);
    assert.ok(rec.secret?.equals(Buffer.alloc(32, 2)));
    assert.equal(sn.controlStats.registers, 5);

    // Broken after good ones: refused with its rule, nothing of it applied.
    const before = drops.length;
    send(1, encode({ ...reg({}), NodeID: 'x' }));
    send(1, new Uint8Array([0x7b, 0x7b]));
    send(1, encode(reg({ NodeID: 2 })));
    send(1, encode(reg({ JWTSecret: Buffer.alloc(8).toString('base64') })));
    assert.equal(sn.controlStats.registers, 5, 'none of the bad ones counted');
    assert.equal(drops.length - before, 4, drops.slice(before).join('; '));
    assert.ok(/bad control message/.test(drops[before]!), drops[before]);
    assert.ok(/bad control message/.test(drops[before + 1]!), drops[before + 1]);
    assert.ok(/claims NodeID 2/.test(drops[before + 2]!), drops[before + 2]);
    assert.ok(/JWTSecret/.test(drops[before + 3]!), drops[before + 3]);
    // The same bad Register twice is refused twice (no decoded message kept for it).
    send(1, encode(reg({ NodeID: 2 })));
    assert.equal(drops.length - before, 5);
    // The good one before them still works, and another edge's identical bytes are its own.
    send(1, encode(reg({ NhStateHash: 'n2', JWTSecret: secretB, HttpPostCount: 0 })));
    assert.equal(sn.controlStats.registers, 6);
    send(2, encode(reg({ NodeID: 2 })));
    assert.equal(sn.controlStats.registers, 7);
    assert.deepEqual(sn.edges.get(2)!.acked, { peer: 'p1', nh: 'n1', params: 's1' });
    await sn.stop();
  });
});
