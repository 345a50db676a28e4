// The README's main command runs this demo; it must keep working.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../ts/paths.js';
import { probeOneWay } from './helpers/delay.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

describe('demo (local mesh on loopback, --once)', function () {
  this.timeout(90_000);
  it('converges, shows the asymmetric route, carries frames across the mesh and exits 0', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/demo/main.js'), '--once'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, out + err);
    assert.match(out, /Routes converged after [\d.]+ s/);
    assert.match(out, /Measured one-way latency, ms/);
    // ManualLatency makes 1→4 slow in that direction only: relayed one way, direct the other.
    const row1 = out.split('\n').find((l) => /^1\s+-\s+\d/.test(l))!;
    assert.ok(row1, out);
    assert.notEqual(row1.trim().split(/\s+/)[4], '4', `1→4 should take a relay: ${row1}`);
    assert.match(out, /Broadcast from host 1 arrived at hosts 2, 3, 4\./);
    assert.match(out, /Unicast 4→1 arrived at host 1: "hello host 1, from host 4 \(unicast\)" \(path 4→1: 4(→[23])?→1; path 1→4: 1→[23]→4\)/);
    // --once has stopped everything when it exits: printing the state and playground URLs would
    // hand out dead links (the default, long-running demo prints them).
    assert.doesNotMatch(out, /State API:|Playground:/);
    // Settled, true latencies: the truth for a loopback link is the kernel's own one-way time
    // between its software TX and RX timestamps of a UDP datagram over lo (egprobe, measured
    // now, a few µs); every printed loopback latency (all but the ManualLatency 1→4) must be
    // within 0.3 ms of it — no start-up transients, no event-loop queueing.
    assert.match(out, /Latencies settled after [\d.]+ s more\./);
    const truth = median(await probeOneWay({ toIp: '127.0.0.1', port: 47300 + (process.pid % 200), count: 50, intervalMs: 2 }));
    assert.ok(truth >= 0 && truth < 0.1, `loopback wire time ${truth} ms`);
    const table = out.slice(out.indexOf('Measured one-way latency'));
    for (const r of [1, 2, 3, 4]) {
      const cells = table.split('\n').find((l) => new RegExp(`^${r}\\s+`).test(l))!.trim().split(/\s+/).slice(1);
      cells.forEach((v, i) => {
        const c = i + 1;
        if (c === r || (r === 1 && c === 4)) return;
        assert.ok(Math.abs(Number(v) - truth) <= 0.3, `${r}→${c}: printed ${v} ms, loopback wire time ${truth.toFixed(3)} ms`);
      });
    }
  });

  it('--tap (root): TAP devices in namespaces, and a real ping crosses the mesh', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const child = spawn(process.execPath, [join(ROOT, 'dist/demo/main.js'), '--tap', '--once'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, out + err);
    assert.match(out, /TAP devices in network namespaces/);
    assert.match(out, /Measured one-way latency, ms \(row = from, column = to; veth pairs on a bridge,/, 'the table names the links it measured (it said "loopback")');
    assert.match(out, /ping from node 1 \(192\.168\.79\.1\) to node 4 \(192\.168\.79\.4\), path 1→4: 1→[23]→4/);
    assert.match(out, /3 packets transmitted, [123] received/);
  });
});
