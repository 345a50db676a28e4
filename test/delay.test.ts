// tools/egdelay + test/helpers/delay.ts: one-way delay, jitter, loss and link cuts on directed
// links between two namespaces joined by a veth pair. One-way delays are measured directly: both
// namespaces share the kernel's CLOCK_MONOTONIC, so A stamps each UDP probe, B's reflector adds its
// receive time, and A adds the time the reply came back.
import assert from 'node:assert/strict';
import { spawn, ChildProcess } from 'node:child_process';
import { netnsAdd, netnsDel, runIn, isRoot, sh } from './helpers/netns.js';
import { addDelay, cutLink, ensureEgdelay, DelayHandle } from './helpers/delay.js';

const IP_A = '10.231.0.1';
const IP_B = '10.231.0.2';
const PORT = 40999;

// Runs under `node -e` inside a namespace. reflect PORT | probe DST PORT COUNT BURST INTERVAL_MS WAIT_MS
const PROBE_JS = `
const dgram = require('dgram');
const now = () => process.hrtime.bigint();
const [mode, ...a] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
if (mode === 'reflect') {
  s.on('message', (m, r) => {
    const b = Buffer.alloc(24);
    m.copy(b, 0, 0, 16);
    b.writeBigUInt64LE(now(), 16);
    s.send(b, r.port, r.address);
  });
  s.bind(Number(a[0]), () => console.log('ready'));
  process.on('SIGTERM', () => process.exit(0));
} else {
  const [dst, port, count, burst, interval, wait] = [a[0], ...a.slice(1).map(Number)];
  const rows = [];
  s.on('message', (m) => {
    const t = now();
    const tS = m.readBigUInt64LE(8), tB = m.readBigUInt64LE(16);
    rows.push([m.readUInt32LE(0), Number(tB - tS) / 1e6, Number(t - tB) / 1e6]);
  });
  s.bind(0, () => {
    let seq = 0;
    const tick = () => {
      for (let i = 0; i < burst && seq < count; i++) {
        const b = Buffer.alloc(16);
        b.writeUInt32LE(seq++, 0);
        b.writeBigUInt64LE(now(), 8);
        s.send(b, port, dst);
      }
      if (seq < count) setTimeout(tick, interval);
      else setTimeout(() => { console.log(JSON.stringify({ sent: count, rows })); s.close(); }, wait);
    };
    tick();
  });
}
`;

interface Dist {
  min: number;
  p50: number;
  p90: number;
  max: number;
}
interface ProbeResult {
  sent: number;
  received: number;
  inOrder: boolean;
  fwd: Dist; // A -> B, ms
  back: Dist; // B -> A, ms
  rtt: Dist;
}

function dist(xs: number[]): Dist {
  const s = [...xs].sort((x, y) => x - y);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { min: s[0] ?? NaN, p50: q(0.5), p90: q(0.9), max: s[s.length - 1] ?? NaN };
}

const fmt = (d: Dist) => `min ${d.min.toFixed(2)} p50 ${d.p50.toFixed(2)} p90 ${d.p90.toFixed(2)} max ${d.max.toFixed(2)}`;

describe('egdelay: one-way delay on directed links (NFQUEUE)', function () {
  this.timeout(60000);
  let a = '';
  let b = '';
  let reflector: ChildProcess | undefined;
  const handles: DelayHandle[] = [];

  async function probe(count = 40, burst = 1, intervalMs = 10, waitMs = 400): Promise<ProbeResult> {
    const r = await runIn(a, process.execPath, ['-e', PROBE_JS, 'probe', IP_B, String(PORT), String(count), String(burst), String(intervalMs), String(waitMs)], {
      timeoutMs: 30000,
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { sent: number; rows: [number, number, number][] };
    const seqs = out.rows.map((x) => x[0]);
    return {
      sent: out.sent,
      received: out.rows.length,
      inOrder: seqs.every((s, i) => i === 0 || s > seqs[i - 1]),
      fwd: dist(out.rows.map((x) => x[1])),
      back: dist(out.rows.map((x) => x[2])),
      rtt: dist(out.rows.map((x) => x[1] + x[2])),
    };
  }

  async function delay(...args: Parameters<typeof addDelay>): Promise<DelayHandle> {
    const h = await addDelay(...args);
    handles.push(h);
    return h;
  }

  before(async function () {
    if (!isRoot()) this.skip();
    ensureEgdelay();
    a = netnsAdd('egdlA');
    b = netnsAdd('egdlB');
    const va = `egd${process.pid % 100000}a`;
    const vb = `egd${process.pid % 100000}b`;
    sh('ip', ['link', 'add', va, 'netns', a, 'type', 'veth', 'peer', 'name', vb, 'netns', b]);
    sh('ip', ['-n', a, 'addr', 'add', `${IP_A}/24`, 'dev', va]);
    sh('ip', ['-n', b, 'addr', 'add', `${IP_B}/24`, 'dev', vb]);
    sh('ip', ['-n', a, 'link', 'set', va, 'up']);
    sh('ip', ['-n', b, 'link', 'set', vb, 'up']);
    reflector = spawn('ip', ['netns', 'exec', b, process.execPath, '-e', PROBE_JS, 'reflect', String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error('reflector not ready')), 10000);
      reflector!.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(t);
          res();
        }
      });
    });
  });

  afterEach(async () => {
    while (handles.length) await handles.pop()!.remove();
  });

  after(() => {
    reflector?.kill('SIGKILL');
    if (a) netnsDel(a);
    if (b) netnsDel(b);
  });

  let base: ProbeResult;

  it('baseline: both directions well under a millisecond or two', async () => {
    base = await probe();
    console.log(`      baseline fwd ${fmt(base.fwd)} | back ${fmt(base.back)} | rtt ${fmt(base.rtt)}`);
    assert.equal(base.received, base.sent);
    assert.ok(base.fwd.p50 < 3 && base.back.p50 < 3, 'baseline too slow');
  });

  it('50 ms on A->B only: RTT +45..80 ms, A->B ~50 ms, B->A unchanged; removal restores', async () => {
    const h = await delay({ netns: a, dstIp: IP_B, proto: 'udp', dport: PORT, delayMs: 50, queueNum: 5 });
    const r = await probe();
    console.log(`      +50ms A->B: fwd ${fmt(r.fwd)} | back ${fmt(r.back)} | rtt ${fmt(r.rtt)}`);
    assert.equal(r.received, r.sent);
    assert.ok(r.inOrder);
    const rise = r.rtt.p50 - base.rtt.p50;
    assert.ok(rise >= 45 && rise <= 80, `RTT rose by ${rise.toFixed(2)} ms`);
    assert.ok(r.fwd.min >= 50, `A->B shorter than the delay: ${r.fwd.min}`);
    assert.ok(r.fwd.p50 <= 55, `A->B p50 ${r.fwd.p50}`);
    assert.ok(r.back.p50 < 3, `B->A changed: ${r.back.p50}`);

    const exit = await h.remove();
    assert.equal(exit.code, 0, exit.stats);
    assert.match(exit.stats, /received=40 accepted=40 dropped=0/);
    const after = await probe();
    assert.equal(after.received, after.sent);
    assert.ok(after.fwd.p50 < 3 && after.back.p50 < 3, `not restored: ${fmt(after.fwd)}`);
  });

  it('delays only the direction whose sender has the rule (B->A 30 ms)', async () => {
    await delay({ netns: b, dstIp: IP_A, proto: 'udp', delayMs: 30, queueNum: 5 });
    const r = await probe();
    console.log(`      +30ms B->A: fwd ${fmt(r.fwd)} | back ${fmt(r.back)}`);
    assert.equal(r.received, r.sent);
    assert.ok(r.fwd.p50 < 3, `A->B changed: ${r.fwd.p50}`);
    assert.ok(r.back.min >= 30 && r.back.p50 <= 35, `B->A ${fmt(r.back)}`);
  });

  it('receiver-side delay: chain INPUT in B matching srcIp A delays A->B only', async () => {
    await delay({ netns: b, chain: 'INPUT', srcIp: IP_A, proto: 'udp', dport: PORT, delayMs: 40, queueNum: 21 });
    const r = await probe();
    console.log(`      +40ms A->B at B's INPUT: fwd ${fmt(r.fwd)} | back ${fmt(r.back)}`);
    assert.equal(r.received, r.sent);
    assert.ok(r.fwd.min >= 40 && r.fwd.p50 <= 45, fmt(r.fwd));
    assert.ok(r.back.p50 < 3, `B->A changed: ${r.back.p50}`);
  });

  it('asymmetric delays in both directions at once (20 ms / 35 ms)', async () => {
    await delay({ netns: a, dstIp: IP_B, proto: 'udp', delayMs: 20, queueNum: 7 });
    await delay({ netns: b, dstIp: IP_A, proto: 'udp', delayMs: 35, queueNum: 7 });
    const r = await probe();
    console.log(`      20/35: fwd ${fmt(r.fwd)} | back ${fmt(r.back)}`);
    assert.ok(r.fwd.min >= 20 && r.fwd.p50 <= 25, fmt(r.fwd));
    assert.ok(r.back.min >= 35 && r.back.p50 <= 40, fmt(r.back));
  });

  it('ping (ICMP) RTT rises by the delay', async () => {
    const ping = async () => {
      const r = await runIn(a, 'ping', ['-c', '10', '-i', '0.05', '-q', IP_B]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return Number(/= [\d.]+\/([\d.]+)\//.exec(r.stdout)![1]);
    };
    const before = await ping();
    await delay({ netns: a, dstIp: IP_B, proto: 'icmp', delayMs: 50, queueNum: 9 });
    const withDelay = await ping();
    console.log(`      ping avg ${before.toFixed(3)} -> ${withDelay.toFixed(3)} ms`);
    assert.ok(withDelay - before >= 45 && withDelay - before <= 80, `ping rose by ${withDelay - before}`);
  });

  it('holds 5000 packets/s at 20 ms without loss or reordering', async () => {
    const h = await delay({ netns: a, dstIp: IP_B, proto: 'udp', delayMs: 20, queueNum: 11 });
    const r = await probe(5000, 50, 10, 500);
    const exit = await h.remove();
    console.log(`      5000 pkt @ ~5k/s: received ${r.received} fwd ${fmt(r.fwd)}\n      ${exit.stats}`);
    assert.match(exit.stats, /received=5000 accepted=5000 dropped=0 enobufs=0/);
    // egdelay let every packet through (above); the UDP sockets of the Node probes can still
    // overflow when other work starves them on a loaded machine.
    assert.ok(r.received >= r.sent * 0.99, `received ${r.received}`);
    assert.ok(r.inOrder, 'reordered');
    assert.ok(r.fwd.min >= 20 && r.fwd.p50 <= 24 && r.fwd.p90 <= 28, fmt(r.fwd));
  });

  it('jitter stays within [D-J, D+J] and keeps order', async () => {
    const h = await delay({ netns: a, dstIp: IP_B, proto: 'udp', delayMs: 30, jitterMs: 10, seed: 7, queueNum: 13 });
    const r = await probe(100, 1, 5);
    const exit = await h.remove();
    console.log(`      30±10ms: fwd ${fmt(r.fwd)}\n      ${exit.stats}`);
    assert.equal(r.received, r.sent);
    assert.ok(r.inOrder);
    // Never earlier than D-J; the upper end is checked on the median and p90 only, since a
    // loaded machine can delay the probes' own timestamps.
    assert.ok(r.fwd.min >= 20 && r.fwd.p50 >= 25 && r.fwd.p50 <= 36 && r.fwd.p90 <= 45, fmt(r.fwd));
    assert.ok(r.fwd.p90 - r.fwd.min >= 5, `no spread: ${fmt(r.fwd)}`);
  });

  it('drops the configured share of packets (20 % loss)', async () => {
    const h = await delay({ netns: a, dstIp: IP_B, proto: 'udp', delayMs: 5, lossPct: 20, seed: 42, queueNum: 15 });
    const r = await probe(1000, 10, 5, 300);
    const loss = 1 - r.received / r.sent;
    console.log(`      20% loss: observed ${(loss * 100).toFixed(1)} %`);
    assert.ok(loss >= 0.14 && loss <= 0.26, `loss ${loss}`);
    assert.ok(r.inOrder);
    const exit = await h.remove();
    assert.match(exit.stats, /received=1000 /);
  });

  it('cutLink drops everything A sends to B; restore() brings it back', async () => {
    const cut = cutLink({ netns: a, dstIp: IP_B });
    try {
      const r = await probe(20, 1, 10, 200);
      assert.equal(r.received, 0);
      const p = await runIn(a, 'ping', ['-c', '2', '-W', '1', IP_B]);
      assert.notEqual(p.code, 0, 'ping got through a cut link');
    } finally {
      cut.restore();
    }
    cut.restore(); // idempotent
    const r = await probe(20, 1, 10, 200);
    assert.equal(r.received, r.sent);
    assert.doesNotMatch(sh('ip', ['netns', 'exec', a, 'iptables', '-S']), /egdelay/);
  });

  it('cutLink wins over an active delay; both:true cuts the inbound side as well', async () => {
    await delay({ netns: a, dstIp: IP_B, proto: 'udp', delayMs: 10, queueNum: 17 });
    const cut = cutLink({ netns: b, dstIp: IP_A, both: true });
    try {
      const r = await probe(20, 1, 10, 200);
      assert.equal(r.received, 0);
    } finally {
      cut.restore();
    }
    const r = await probe(20, 1, 10, 200);
    assert.equal(r.received, r.sent);
    assert.ok(r.fwd.min >= 10);
  });

  it('refuses a queue number that is already bound in the namespace', async () => {
    await delay({ netns: a, dstIp: IP_B, proto: 'udp', delayMs: 5, queueNum: 23 });
    await assert.rejects(delay({ netns: a, dstIp: IP_B, proto: 'udp', delayMs: 5, queueNum: 23 }), /cannot bind queue 23/);
  });

  it('SIGTERM releases held packets and leaves no rule behind', async () => {
    const h = await delay({ netns: a, dstIp: IP_B, proto: 'udp', delayMs: 1500, queueNum: 19 });
    const pending = probe(10, 10, 10, 1200);
    await new Promise((r) => setTimeout(r, 500)); // probes are now held inside egdelay
    const exit = await h.remove();
    assert.equal(exit.code, 0);
    assert.match(exit.stats, /exit on signal 15: received=10 accepted=10/);
    const r = await pending;
    assert.equal(r.received, 10, 'held packets were not released on exit');
    assert.ok(r.fwd.max < 1500, 'released early, not after the full delay');
    assert.doesNotMatch(sh('ip', ['netns', 'exec', a, 'iptables', '-S']), /egdelay|NFQUEUE/);
  });
});
