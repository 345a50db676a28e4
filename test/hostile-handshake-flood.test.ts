// A member flooding handshake initiations at the real WASM core (ts/core/wg.ts): the device goes
// under load by itself (no caller flag), answers cookie replies, and the counters reach the edge's
// Prometheus registry. The rules themselves: crates/eg-core/tests/hostile_handshake_flood.rs.
import assert from 'node:assert/strict';
import { generateKeyPair } from '../ts/config/index.js';
import { keyFromBase64, Verdict, WgDevice } from '../ts/core/wg.js';
import { edgeRegistry } from '../ts/metrics/registry.js';

describe('hostile: a member flooding handshake initiations', () => {
  it('switches the cookie defence on inside the core and counts it in the metrics', async () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    let t = 100;
    const clock = () => t;
    const flooder = new WgDevice(keyFromBase64(a.privateKey), { clock, wallClock: () => 1.7e12 + t * 1000 });
    const victim = new WgDevice(keyFromBase64(b.privateKey), { clock, wallClock: () => 1.7e12 + t * 1000 });
    const toVictim = flooder.addPeer(keyFromBase64(b.publicKey));
    victim.addPeer(keyFromBase64(a.publicKey));
    victim.setHandshakeLimits(20, 20, 5);
    const src = new Uint8Array([10, 0, 0, 1, 0x13, 0x89]);
    const verdicts = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      t = 100 + i * 0.002;
      const init = flooder.initiate(toVictim);
      assert.ok(init.ok);
      const r = victim.handle(init.packet, src, t); // no underLoad flag: the core decides
      verdicts.set(r.verdict, (verdicts.get(r.verdict) ?? 0) + 1);
    }
    const st = victim.loadStats();
    assert.equal(st.handshakes, 200);
    assert.equal(st.cookieReplies, 180, JSON.stringify(st));
    assert.equal(verdicts.get(Verdict.CookieReply), 180);
    assert.equal(st.episodes, 1);
    const reg = edgeRegistry(() => ({ nodeId: 2, nodeName: 'victim', peers: [], latencyS: new Map(), forwarded: 0, drops: {}, nextHops: new Map(), handshakeLoad: victim.loadStats() }));
    const text = await reg.metrics();
    assert.match(text, /^etherguard_handshake_cookie_replies_total 180$/m);
    assert.match(text, /^etherguard_under_load_episodes_total 1$/m);
    assert.match(text, /^etherguard_handshake_rate_limited_total 0$/m);
  });
});
