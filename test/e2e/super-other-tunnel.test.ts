// Super mode with another VPN on the same hosts: each edge's namespace also has a TAP of another
// mesh (held open, with that mesh's addresses) and a TUN. The edges report only their underlay
// (veth) addresses to the supernode: the trial that found this ran a super-mode mesh and a P2P
// mesh side by side, each edge reported the other mesh's TAP address, and the super-mode
// sessions moved into the P2P mesh ("peer roamed node=4712 from=10.248.0.2:55280
// to=10.250.18.114:55280").
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildMeshConfigs, type MeshConfigs } from '../../ts/demo/meshcfg.js';
import { Proc, startEdge, stopAll } from '../helpers/mesh.js';
import { isRoot, sh } from '../helpers/netns.js';
import { pollState } from '../helpers/poll-state.js';
import { buildStar, Topo } from '../helpers/topo.js';

const run = promisify(execFile);
const IDS = [1, 2];
const SUPER = 100;
const NET = 179;
const otherIp = (id: number) => `10.250.18.${110 + id}`;

interface State {
  Status?: Record<string, { LocalV4s?: Record<string, number>; LocalV6s?: Record<string, number> }>;
}

/** Opens TUN/TAP devices (already created) and keeps them open, as the program of another VPN does. */
function holdOpen(ns: string, devs: { name: string; tap: boolean }[]): Promise<ChildProcess> {
  const py = [
    'import fcntl, os, struct, time',
    'fds = []',
    `for name, mode in ${'(' + devs.map((d) => `(b'${d.name}', ${d.tap ? '0x0002' : '0x0001'})`).join(', ') + ',)'}:`,
    "    fd = os.open('/dev/net/tun', os.O_RDWR)",
    "    fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', name, mode | 0x1000))",
    '    fds.append(fd)',
    "print('ready', flush=True)",
    'time.sleep(600)',
  ].join('\n');
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.on('exit', (code) => reject(new Error(`TUN/TAP holder exited (${code})`)));
  });
}

describe('e2e: super mode next to another VPN on the same hosts (its TAP and a TUN in each edge namespace)', function () {
  this.timeout(120_000);
  let topo: Topo | undefined;
  let cfgs: MeshConfigs;
  const procs = new Map<number, Proc>();
  const holders: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'egothertun-'));

  async function state(): Promise<State> {
    const q = new URLSearchParams({ Password: cfgs.passwords.ShowState });
    const url = `http://${topo!.addr(SUPER)}:3100${cfgs.apiPrefix}/manage/super/state?${q}`;
    const { stdout } = await run('ip', ['netns', 'exec', topo!.ns.get(1)!, 'curl', '-s', url]);
    return JSON.parse(stdout) as State;
  }

  before(async function () {
    if (!isRoot()) this.skip();
    topo = buildStar([...IDS, SUPER], NET);
    for (const id of IDS) {
      const ns = topo.ns.get(id)!;
      const ip = (...a: string[]) => sh('ip', ['-n', ns, ...a]);
      ip('tuntap', 'add', 'dev', 'egother0', 'mode', 'tap');
      ip('addr', 'add', `${otherIp(id)}/16`, 'dev', 'egother0');
      ip('tuntap', 'add', 'dev', 'egothertun', 'mode', 'tun');
      ip('addr', 'add', `10.249.18.${100 + id}/16`, 'dev', 'egothertun');
      ip('link', 'set', 'egother0', 'up');
      ip('link', 'set', 'egothertun', 'up');
      holders.push(await holdOpen(ns, [{ name: 'egother0', tap: true }, { name: 'egothertun', tap: false }]));
    }
    cfgs = buildMeshConfigs({
      name: `egu${process.pid % 1000}n`,
      superHost: topo.addr(SUPER),
      superPort: 3000,
      httpPort: 3100,
      edges: IDS.map((id) => ({ id, listenPort: 3001, iface: { IType: 'tap', Name: `egs${id}`, IPv4CIDR: '192.168.79.0/24' } })),
      timing: { SendPingInterval: 1, HttpPostInterval: 1, PeerAliveTimeout: 5, DampingFilterRadius: 1, RecalculateCoolDown: 1, TimeoutCheckInterval: 1 },
      log: { LogTransit: false, LogControl: false },
    });
    writeFileSync(join(dir, 'super.yaml'), cfgs.superYaml);
    procs.set(SUPER, startEdge(join(dir, 'super.yaml'), { netns: topo.ns.get(SUPER)!, args: ['-no-uapi'], mode: 'super' }));
    for (const id of IDS) {
      writeFileSync(join(dir, `edge${id}.yaml`), cfgs.edgeYaml.get(id)!);
      procs.set(id, startEdge(join(dir, `edge${id}.yaml`), { netns: topo.ns.get(id)!, args: ['-no-uapi'] }));
    }
  });

  after(async () => {
    await stopAll([...procs.values()]);
    for (const h of holders) h.kill('SIGKILL');
    topo?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it("each edge reports its veth address and none of the other VPN's TAP or TUN addresses", async () => {
    const locals = (s: State, id: number) => [...Object.keys(s.Status?.[id]?.LocalV4s ?? {}), ...Object.keys(s.Status?.[id]?.LocalV6s ?? {})];
    const { state: s } = await pollState(state, 'local addresses reported', 40_000, (x) => IDS.every((id) => locals(x, id).length > 0), { intervalMs: 250, detail: (last) => JSON.stringify(last?.Status) });
    for (const id of IDS) {
      const local = locals(s, id);
      assert.ok(local.includes(`${topo!.addr(id)}:3001`), `edge ${id} reports its veth address: ${local.join(', ')}`);
      assert.deepEqual(local.filter((a) => a.startsWith('10.250.') || a.startsWith('10.249.') || a.startsWith('192.168.79.')), [], `edge ${id} reports a tunnel address`);
    }
  });
});
