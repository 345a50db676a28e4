// NTP against a real server: Debian's chronyd in its own namespace, its clock shifted by
// libfaketime (+2.5 s), serving with `local stratum`. Two static edges sync to it; one of them
// has its own clock skewed by -1 s (EG_TEST_CLOCK_OFFSET_MS), so its offset must be +3.5 s.
// A second, unreachable server must only time out: start-up and forwarding do not wait for it.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestExchange, combineOffsets } from '../../ts/ntp/sync.js';
import { parseServer, SntpError, type SntpResult } from '../../ts/ntp/sntp.js';
import { buildConfigs, jsonLines, Proc, startEdge, stopAll, waitFor } from '../helpers/mesh.js';
import { isRoot } from '../helpers/netns.js';
import { buildStar, pingFrom, Topo } from '../helpers/topo.js';

const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const CHRONYD = '/usr/sbin/chronyd';
const SERVER_OFFSET_MS = 2500;
const SKEW_MS = -1000;
const NTP_TIMEOUT_S = 5;

describe('ntp: offset combination and server syntax', () => {
  it('drops the lowest and highest of more than three answers, then takes the median', () => {
    assert.equal(combineOffsets([]), undefined);
    assert.equal(combineOffsets([7]), 7);
    assert.equal(combineOffsets([1, 3]), 2);
    assert.equal(combineOffsets([10, 11, 12, 5000]), 11.5);
    assert.equal(combineOffsets([-9000, 10, 11, 12, 13, 9000]), 11.5);
  });
  it('uses the exchange with the least round trip (a late-read reply skews the offset by half its delay)', async () => {
    const answers: Array<[number, number]> = [[40, 3480], [2, 3499], [10, 3495], [3, 3498.5]];
    let i = 0;
    const q = async (): Promise<SntpResult> => {
      const [rttMs, offsetMs] = answers[i++]!;
      return { rttMs, offsetMs, address: '10.0.0.1', stratum: 2 };
    };
    assert.equal((await bestExchange(q)).offsetMs, 3499);
    assert.equal(i, 4);
    // A failure after an answer keeps the best answer; a failure first is the server's failure.
    i = 0;
    let calls = 0;
    const failSecond = async (): Promise<SntpResult> => {
      calls++;
      if (calls === 2) throw new SntpError('no reply');
      return q();
    };
    assert.equal((await bestExchange(failSecond)).offsetMs, 3480);
    await assert.rejects(bestExchange(async () => { throw new SntpError('no reply within 5000 ms'); }), /no reply within/);
  });
  it('reads host, host:port, [v6]:port and bare IPv6 servers', () => {
    assert.deepEqual(parseServer('time.example'), { host: 'time.example', port: 123 });
    assert.deepEqual(parseServer('10.0.0.1:1123'), { host: '10.0.0.1', port: 1123 });
    assert.deepEqual(parseServer('[2001:db8::1]:1123'), { host: '2001:db8::1', port: 1123 });
    assert.deepEqual(parseServer('2001:db8::1'), { host: '2001:db8::1', port: 123 });
  });
});

describe('e2e: NTP sync against chronyd with a shifted clock', function () {
  this.timeout(60_000);
  let topo: Topo | undefined;
  let chrony: ChildProcess | undefined;
  const procs = new Map<number, Proc>();
  const NS_SERVER = 5;
  let started = 0;

  before(async function () {
    if (!isRoot() || !existsSync(CHRONYD) || !existsSync(FAKETIME_LIB)) this.skip();
    topo = buildStar([1, 2, NS_SERVER], 83);
    const dir = mkdtempSync(join(tmpdir(), 'egntp-'));
    const conf = join(dir, 'chrony.conf');
    writeFileSync(conf, [
      'local stratum 8', // serve the local clock as synchronised, with no upstream source
      'allow all',
      'port 123',
      'cmdport 0',
      `pidfile ${join(dir, 'chronyd.pid')}`,
      `driftfile ${join(dir, 'drift')}`,
    ].join('\n') + '\n');
    // -x: never touch the system clock; libfaketime shifts only chronyd's view of it.
    chrony = spawn('ip', ['netns', 'exec', topo.ns.get(NS_SERVER)!, CHRONYD, '-x', '-d', '-f', conf, '-u', 'root'], {
      env: { ...process.env, LD_PRELOAD: FAKETIME_LIB, FAKETIME: `+${SERVER_OFFSET_MS / 1000}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let chronyOut = '';
    chrony.stderr!.on('data', (d: Buffer) => (chronyOut += d.toString()));
    chrony.stdout!.on('data', (d: Buffer) => (chronyOut += d.toString()));
    await waitFor(() => /Disabled control of system clock|chronyd version/.test(chronyOut), 10_000, `chronyd to start: ${chronyOut}`);
    await new Promise((r) => setTimeout(r, 300));
    const ntp = {
      UseNTP: true,
      MaxServerUse: 8,
      SyncTimeInterval: 3600,
      NTPTimeout: NTP_TIMEOUT_S,
      // The second server has no host behind it: its query can only time out.
      Servers: [topo.addr(NS_SERVER), `${topo.addr(77)}:123`],
    };
    const { files } = buildConfigs({
      nodes: [1, 2].map((id) => ({
        id,
        host: topo!.addr(id),
        port: 3001,
        iface: { IType: 'tap', Name: `egt${id}`, IPv4CIDR: '192.168.83.0/24' },
        extra: { NodeName: `egntp${process.pid % 1000}n${id}`, DynamicRoute: { NTPConfig: ntp } },
      })),
      links: [[1, 2]],
      table: { 1: { 2: 2 }, 2: { 1: 1 } },
      log: { LogNTP: true },
    });
    started = Date.now();
    procs.set(1, startEdge(files.get(1)!, { netns: topo.ns.get(1)!, args: ['-no-uapi'], env: { EG_TEST: '1', EG_TEST_CLOCK_OFFSET_MS: String(SKEW_MS) } }));
    procs.set(2, startEdge(files.get(2)!, { netns: topo.ns.get(2)!, args: ['-no-uapi'] }));
  });

  after(async () => {
    await stopAll([...procs.values()]);
    chrony?.kill('SIGTERM');
    topo?.teardown();
  });

  const syncLine = (id: number) => jsonLines(procs.get(id)!).find((l) => l.level === 'ntp' && l.msg === 'NTP sync');

  it('start-up and forwarding do not wait for the unreachable server', async () => {
    await Promise.all([1, 2].map((id) => waitFor(() => procs.get(id)!.out.some((l) => l.includes(' up: tap ')), 10_000, `edge ${id} up`)));
    assert.ok(Date.now() - started < NTP_TIMEOUT_S * 1000, 'both edges up before the NTP timeout');
    assert.ok(await pingFrom(topo!.ns.get(1)!, '192.168.83.2', 2), 'ping 1 -> 2 while the NTP round is pending');
    assert.equal(syncLine(1), undefined, 'the first NTP round was still waiting for the unreachable server');
  });

  it('each edge measures the server’s offset against its own clock within 5 ms, and reports the failed server', async () => {
    await waitFor(() => syncLine(1) !== undefined && syncLine(2) !== undefined, (NTP_TIMEOUT_S + 5) * 1000, 'NTP sync lines');
    const want = { 1: SERVER_OFFSET_MS - SKEW_MS, 2: SERVER_OFFSET_MS };
    for (const id of [1, 2] as const) {
      const l = syncLine(id)!;
      assert.equal(l.answered, 1);
      assert.equal(l.queried, 2);
      const off = Number(l.offset_ms);
      assert.ok(Math.abs(off - want[id]) <= 5, `edge ${id}: offset ${off} ms, want ${want[id]} ± 5 ms`);
      const failed = jsonLines(procs.get(id)!).find((x) => x.level === 'ntp' && x.msg === 'NTP server failed');
      assert.ok(failed && String(failed.error).includes(`no reply within ${NTP_TIMEOUT_S * 1000} ms`), JSON.stringify(failed));
    }
    assert.ok(await pingFrom(topo!.ns.get(2)!, '192.168.83.1', 2), 'still forwarding after the sync');
  });
});
