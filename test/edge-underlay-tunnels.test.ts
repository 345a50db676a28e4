// The underlay addresses a node offers (supernode report LocalV4s/LocalV6s, P2P self-description)
// leave out the addresses of tunnel and VPN devices, not only the node's own VPN interface: with a
// super-mode mesh and a P2P mesh on the same hosts, each offered its TAP addresses to the other,
// and sessions moved into the other mesh ("peer roamed … to=10.250.18.114:55280", one VPN carried
// inside the other).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tunnelDevice } from '../ts/edge/underlay.js';
import { ROOT } from '../ts/paths.js';
import { isRoot, netnsAdd, netnsDel, runIn, sh } from './helpers/netns.js';

const NO_SUBNETS = { IPv4CIDR: '', IPv6CIDR: '', IPv6LLPrefix: '' };

describe('underlay addresses leave out tunnel and VPN devices', function () {
  this.timeout(60_000);

  describe('real devices in a network namespace', function () {
    let ns = '';
    let holder: ChildProcess | undefined;
    before(async function () {
      if (!isRoot()) this.skip();
      ns = netnsAdd('egul');
      const ip = (...a: string[]) => sh('ip', ['-n', ns, ...a]);
      // The underlay: a veth pair (its addresses must be offered).
      ip('link', 'add', 'ulveth0', 'type', 'veth', 'peer', 'name', 'ulveth1');
      ip('addr', 'add', '10.77.0.1/24', 'dev', 'ulveth0');
      ip('addr', 'add', 'fd77::1/64', 'dev', 'ulveth0', 'nodad');
      // Another mesh's TAP (as an Etherguard edge with IType tap makes), a TUN (OpenVPN, wireguard-go,
      // Tailscale) and a VXLAN, each with addresses of its overlay.
      ip('tuntap', 'add', 'dev', 'ultap0', 'mode', 'tap');
      ip('addr', 'add', '10.250.18.114/16', 'dev', 'ultap0');
      ip('addr', 'add', 'fd95:71cb:a3df:e586::72/64', 'dev', 'ultap0', 'nodad');
      ip('tuntap', 'add', 'dev', 'ultun0', 'mode', 'tun');
      ip('addr', 'add', '10.249.18.104/16', 'dev', 'ultun0');
      ip('link', 'add', 'ulvx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '10.77.0.1');
      ip('addr', 'add', '10.251.0.1/24', 'dev', 'ulvx0');
      for (const d of ['ulveth0', 'ulveth1', 'ultap0', 'ultun0', 'ulvx0']) ip('link', 'set', d, 'up');
      // A TUN/TAP device has carrier, and so is listed by os.networkInterfaces() (libuv lists only
      // running interfaces), while a program holds it open, as the other mesh's edge does.
      const hold = [
        'import fcntl, os, struct, sys, time',
        'fds = []',
        "for name, mode in ((b'ultap0', 0x0002), (b'ultun0', 0x0001)):",
        "    fd = os.open('/dev/net/tun', os.O_RDWR)",
        "    fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', name, mode | 0x1000))",
        '    fds.append(fd)',
        "print('ready', flush=True)",
        'time.sleep(300)',
      ].join('\n');
      holder = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', hold], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        holder!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        holder!.on('exit', (code) => reject(new Error(`the TUN/TAP holder exited (${code})`)));
      });
      const links = ip('-o', 'link', 'show');
      for (const d of ['ultap0', 'ultun0']) assert.match(links, new RegExp(`${d}:.*LOWER_UP`), `${d} has carrier: ${links}`);
    });
    after(() => {
      holder?.kill('SIGKILL');
      if (ns) netnsDel(ns);
    });

    /** Runs `expr` (with `m` = ts/edge/underlay.ts) inside the namespace, where sysfs and the interfaces are its own. */
    async function inNs(expr: string): Promise<unknown> {
      const code = `import(${JSON.stringify(join(ROOT, 'ts/edge/underlay.ts'))}).then((m) => process.stdout.write(JSON.stringify(${expr})))`;
      const r = await runIn(ns, process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    }

    it('offers the veth addresses and none of the TAP, TUN or VXLAN addresses', async () => {
      const got = (await inNs(`m.underlayAddresses(undefined, ${JSON.stringify(NO_SUBNETS)}, { IPv4: false, IPv6: false })`)) as { family: number; address: string }[];
      assert.deepEqual(
        got.map((a) => a.address).sort(),
        ['10.77.0.1', 'fd77::1'],
        `offered: ${JSON.stringify(got)}`,
      );
    });

    it('names each kind from the OS data (tun_flags, uevent DEVTYPE), and a veth or loopback as no tunnel', async () => {
      const kinds = (await inNs(`Object.fromEntries(['ultap0', 'ultun0', 'ulvx0', 'ulveth0', 'lo'].map((d) => [d, m.tunnelDevice(d) ?? null]))`)) as Record<string, string | null>;
      assert.deepEqual(kinds, { ultap0: 'TUN/TAP device', ultun0: 'TUN/TAP device', ulvx0: 'vxlan device', ulveth0: null, lo: null });
    });

    it("the node's own VPN interface and subnets stay left out as before", async () => {
      const got = (await inNs(`m.underlayAddresses('ulveth0', ${JSON.stringify(NO_SUBNETS)}, { IPv4: false, IPv6: false })`)) as unknown[];
      assert.deepEqual(got, []);
      const sub = (await inNs(`m.underlayAddresses(undefined, { IPv4CIDR: '10.77.0.0/24', IPv6CIDR: '', IPv6LLPrefix: '' }, { IPv4: false, IPv6: false })`)) as { address: string }[];
      assert.deepEqual(sub.map((a) => a.address), ['fd77::1']);
    });
  });

  describe('device kinds this kernel cannot create here, from sysfs files', () => {
    let dir = '';
    const dev = (name: string, files: Record<string, string>) => {
      mkdirSync(join(dir, name));
      for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, name, f), v);
    };
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'eg-sysfs-'));
      // As the kernel writes them: wg_setup sets type ARPHRD_NONE and the "wireguard" devtype.
      dev('wg0', { type: '65534\n', flags: '0x90\n', uevent: 'DEVTYPE=wireguard\nINTERFACE=wg0\nIFINDEX=7\n' });
      dev('gre1', { type: '778\n', flags: '0x91\n', uevent: 'INTERFACE=gre1\nIFINDEX=8\n' });
      dev('ip6tnl1', { type: '769\n', flags: '0x91\n', uevent: 'INTERFACE=ip6tnl1\nIFINDEX=9\n' });
      dev('sit1', { type: '776\n', flags: '0x91\n', uevent: 'INTERFACE=sit1\nIFINDEX=10\n' });
      dev('gnv0', { type: '1\n', flags: '0x1003\n', uevent: 'DEVTYPE=geneve\nINTERFACE=gnv0\nIFINDEX=11\n' });
      // Point-to-point uplinks that are the real underlay: a PPPoE link, a raw-IP modem.
      dev('ppp0', { type: '512\n', flags: '0x10d1\n', uevent: 'INTERFACE=ppp0\nIFINDEX=12\n' });
      dev('wwan0', { type: '65534\n', flags: '0x1091\n', uevent: 'DEVTYPE=wwan\nINTERFACE=wwan0\nIFINDEX=13\n' });
      dev('eth0', { type: '1\n', flags: '0x1003\n', uevent: 'INTERFACE=eth0\nIFINDEX=2\n' });
      dev('tap9', { type: '1\n', flags: '0x1003\n', tun_flags: '0x1002\n', uevent: 'INTERFACE=tap9\nIFINDEX=14\n' });
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('WireGuard, GRE, ip6tnl, sit and Geneve devices are tunnels; PPP, a raw-IP modem and Ethernet are not', () => {
      assert.equal(tunnelDevice('wg0', dir), 'wireguard device');
      assert.equal(tunnelDevice('gre1', dir), 'GRE tunnel');
      assert.equal(tunnelDevice('ip6tnl1', dir), 'IPv6 tunnel');
      assert.equal(tunnelDevice('sit1', dir), 'sit tunnel');
      assert.equal(tunnelDevice('gnv0', dir), 'geneve device');
      assert.equal(tunnelDevice('ppp0', dir), undefined);
      assert.equal(tunnelDevice('wwan0', dir), undefined);
      assert.equal(tunnelDevice('eth0', dir), undefined);
    });

    it('an alias label (tap9:1) is judged as its device; an unknown or odd name is no tunnel and no error', () => {
      assert.equal(tunnelDevice('tap9:1', dir), 'TUN/TAP device');
      assert.equal(tunnelDevice('gone0', dir), undefined);
      assert.equal(tunnelDevice('../etc', dir), undefined);
      assert.equal(tunnelDevice('', dir), undefined);
    });
  });
});
