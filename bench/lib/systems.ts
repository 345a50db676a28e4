// The tunnels bench/compare.bench.ts measures, each brought up between namespaces the way a user
// of that system would set it up (how each one is built here, and why these settings:
// ../shared/anchors.md). Every system gets its own tunnel subnet, UDP port and device names, so all
// of them can run side by side in the same namespaces and be measured interleaved.
//
//   etherguard        node dist/main.js edge, IType tap, static NextHopTable, MTU 1404 (test/helpers/mesh.ts)
//   wireguard-go      `wireguard-go -f DEV` / `wireguard -f DEV` (pinned build), configured with `wg set`, MTU 1420, PSK
//   boringtun-cli     `boringtun-cli -f DEV`, configured with `wg set`; MTU set to 1420 as wg-quick would (it keeps 1500)
//   tinc 1.0          `tincd -D`, Mode = switch over TAP, Cipher = aes-256-cbc, Digest = sha256, RSA 2048
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildConfigs } from '../../test/helpers/mesh.js';
import { ROOT } from '../../ts/paths.js';
import { Proc, runIn, sh, startIn, stop, waitPing, waitUntil } from './netbench.js';

/** One tunnel node: the namespace it runs in and its address on the underlay other nodes dial. */
export interface NodeAt {
  ns: string;
  /** Underlay address other nodes send to (an address of this namespace). */
  host: string;
}

/** A running tunnel between nodes; `ip(i)` is node i's address inside the tunnel. */
export interface Tunnel {
  key: string;
  label: string;
  ip(i: number): string;
  /** Processes whose utime+stime count as the tunnel's CPU, node i's at index i. */
  procs: Proc[];
  /** Tunnel devices per node (for drop counters and offload checks). */
  devs: string[];
  stop(): Promise<void>;
}

const TAG = (process.pid % 10000).toString();
/** Device name, unique per benchmark process (UAPI sockets share /var/run/wireguard across namespaces). */
export const devName = (sys: string, i: number) => `ec${sys}${i}x${TAG}`.slice(0, 15);

/** Fails fast when one of `procs` exits while `wait` is pending, with the tail of its output. */
async function upOrDied(procs: Proc[], wait: Promise<void>): Promise<void> {
  const died = Promise.race(procs.map((p) => p.exited.then((c) => Promise.reject(new Error(`${p.name} exited with ${c} before the tunnel came up`)))));
  died.catch(() => {});
  try {
    await Promise.race([wait, died]);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${procs.map((p) => `${p.name}: ${p.out.slice(-8).join('\n  ')}`).join('\n')}`);
  }
}

async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(procs.map((p) => stop(p, 4000)));
}

/** Where bench/setup.sh keeps its builds ($EG_BENCH_CACHE, default bench/.cache). */
export const BENCH_CACHE = process.env.EG_BENCH_CACHE ?? join(ROOT, 'bench/.cache');

/**
 * The Etherguard tree a benchmark runs: the repository itself, or with BENCH_EG_REF=<commit> the
 * clean snapshot of that commit that bench/setup.sh builds under the cache (the shared working tree
 * may be mid-edit, and the edge refuses a WASM core older than the Rust sources).
 */
export function etherguardRoot(): { root: string; sha?: string; ref?: string } {
  const ref = process.env.BENCH_EG_REF;
  if (!ref) return { root: ROOT };
  const sha = execFileSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
  return { root: join(BENCH_CACHE, 'etherguard', sha), sha, ref };
}

// ---- etherguard ---------------------------------------------------------------------------------

/**
 * Etherguard edges (TAP) on `nodes` with static `table` (NodeIDs are index + 1) and `links`
 * (index pairs, 0-based). `net` is the TAP /24 prefix, e.g. '192.168.76'. `uapiDir` holds the edges'
 * UAPI sockets. Resolves once node 0 pings the last node through the tunnel.
 */
export async function startEtherguard(o: {
  key: string;
  label: string;
  nodes: NodeAt[];
  links: [number, number][];
  table: Record<number, Record<number, number>>;
  net: string;
  port: number;
  uapiDir: string;
  /** The Etherguard tree whose dist/main.js runs (the repository, or a snapshot built by bench/setup.sh). */
  root?: string;
  /** Extra node options per NodeID, e.g. --cpu-prof. */
  nodeArgs?: (id: number) => string[];
  onConfigDir?: (dir: string) => void;
}): Promise<Tunnel> {
  const ids = o.nodes.map((_, i) => i + 1);
  const { files, dir } = buildConfigs({
    nodes: o.nodes.map((n, i) => ({
      id: i + 1,
      host: n.host,
      port: o.port,
      iface: { IType: 'tap', Name: devName(o.key, i + 1), IPv4CIDR: `${o.net}.0/24` },
      // NodeName names the UAPI socket: unique per system, or the relay line's edges collide with the pair's.
      extra: { NodeName: `egc${TAG}${o.key}n${i + 1}` },
    })),
    links: o.links.map(([a, b]) => [a + 1, b + 1]),
    table: o.table,
    log: { LogLevel: 'error' },
  });
  o.onConfigDir?.(dir);
  const procs = ids.map((id, i) =>
    startIn(`${o.key}-edge${id}`, o.nodes[i].ns, process.execPath, [...(o.nodeArgs?.(id) ?? []), join(o.root ?? ROOT, 'dist/main.js'), 'edge', '-config', files.get(id)!], { EG_UAPI_DIR: o.uapiDir }),
  );
  // The edge gives its TAP the address <net>.<NodeID> from IPv4CIDR.
  const ip = (i: number) => `${o.net}.${i + 1}`;
  const t: Tunnel = { key: o.key, label: o.label, ip, procs, devs: ids.map((id) => devName(o.key, id)), stop: () => stopAll(procs) };
  try {
    await upOrDied(procs, waitPing(o.nodes[0].ns, ip(o.nodes.length - 1), 25_000));
  } catch (e) {
    await t.stop();
    throw e;
  }
  return t;
}

// ---- WireGuard implementations driven over UAPI (wireguard-go, boringtun) -----------------------

export interface WgImpl {
  /** Executable. */
  bin: string;
  /** Arguments before/around the device name. */
  args(dev: string, logFile: string): string[];
  env: Record<string, string>;
}

/**
 * A WireGuard implementation configured with `wg set` on `nodes`; `peers[i]` lists node i's peers
 * as [peer index, allowed tunnel-address indexes]. Node i's tunnel address is `<net>.<i+1>/24`,
 * MTU 1420 (what wg-quick sets on a 1500-byte underlay). `tmp` holds key files.
 */
export async function startWg(o: {
  key: string;
  label: string;
  impl: WgImpl;
  nodes: NodeAt[];
  peers: [number, number[]][][];
  net: string;
  port: number;
  tmp: string;
}): Promise<Tunnel> {
  const wg = (args: string[], input?: string) => execFileSync('wg', args, { encoding: 'utf8', input }).trim();
  const keyFile = (name: string, content: string) => {
    const f = join(o.tmp, `${o.key}-${name}`);
    writeFileSync(f, content + '\n', { mode: 0o600 });
    chmodSync(f, 0o600);
    return f;
  };
  const priv = o.nodes.map(() => wg(['genkey']));
  const pub = priv.map((k) => wg(['pubkey'], k));
  const psk = keyFile('psk', wg(['genpsk']));
  const ip = (i: number) => `${o.net}.${i + 1}`;
  const devs = o.nodes.map((_, i) => devName(o.key, i + 1));
  const sock = (d: string) => `/var/run/wireguard/${d}.sock`;
  const procs: Proc[] = [];
  const t: Tunnel = {
    key: o.key,
    label: o.label,
    ip,
    procs,
    devs,
    stop: async () => {
      await stopAll(procs);
      for (const d of devs) rmSync(sock(d), { force: true });
    },
  };
  try {
    o.nodes.forEach((n, i) => {
      rmSync(sock(devs[i]), { force: true });
      procs.push(startIn(`${o.key}${i + 1}`, n.ns, o.impl.bin, o.impl.args(devs[i], join(o.tmp, `${o.key}-${i + 1}.log`)), o.impl.env));
    });
    for (const [i, n] of o.nodes.entries()) {
      await upOrDied(procs, waitUntil(() => existsSync(sock(devs[i])), 15_000, `${o.label} UAPI socket ${sock(devs[i])}`));
      const args = ['set', devs[i], 'listen-port', String(o.port), 'private-key', keyFile(`priv${i}`, priv[i])];
      for (const [p, allowed] of o.peers[i]) {
        args.push('peer', pub[p], 'preshared-key', psk, 'endpoint', `${o.nodes[p].host}:${o.port}`, 'allowed-ips', allowed.map((a) => `${ip(a)}/32`).join(','));
      }
      const r = await runIn(n.ns, 'wg', args);
      if (r.code !== 0) throw new Error(`wg ${args.slice(0, 2).join(' ')}: ${r.stderr.trim()}`);
      sh('ip', ['-n', n.ns, 'addr', 'add', `${ip(i)}/24`, 'dev', devs[i]]);
      sh('ip', ['-n', n.ns, 'link', 'set', devs[i], 'mtu', '1420', 'up']);
    }
    await upOrDied(procs, waitPing(o.nodes[0].ns, ip(o.nodes.length - 1), 15_000));
  } catch (e) {
    await t.stop();
    throw e;
  }
  return t;
}

/** wireguard-go (Debian's or the pinned build) in the foreground. */
export const wireguardGo = (bin: string): WgImpl => ({ bin, args: (dev) => ['-f', dev], env: { WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' } });

/** boringtun-cli in the foreground, default thread count, root kept (it runs as root here). */
export const boringtun = (bin: string): WgImpl => ({
  bin,
  args: (dev, log) => ['-f', '--disable-drop-privileges', '-v', 'error', '-l', log, dev],
  env: {},
});

// ---- tinc 1.0, switch mode ----------------------------------------------------------------------

/**
 * tinc 1.0 in `Mode = switch` (Ethernet over TAP, like Etherguard) between two nodes, with
 * `Cipher = aes-256-cbc` and `Digest = sha256` (its Blowfish/4-byte-SHA1 default is weaker than
 * WireGuard's AEAD). After the first ping, waits `pmtuMs` for its path-MTU discovery, before which
 * it may carry packets over its TCP meta connection.
 */
export async function startTinc(o: { key: string; label: string; nodes: NodeAt[]; net: string; port: number; tmp: string; pmtuMs: number }): Promise<Tunnel> {
  const names = o.nodes.map((_, i) => `egc${TAG}t${i + 1}`);
  const devs = o.nodes.map((_, i) => devName(o.key, i + 1));
  const dirs = o.nodes.map((_, i) => join(o.tmp, `${o.key}${i + 1}`));
  const ip = (i: number) => `${o.net}.${i + 1}`;
  const crypto = 'Cipher = aes-256-cbc\nDigest = sha256\n';
  for (const [i, n] of o.nodes.entries()) {
    mkdirSync(join(dirs[i], 'hosts'), { recursive: true });
    const connect = o.nodes.map((_, j) => (j !== i ? `ConnectTo = ${names[j]}\n` : '')).join('');
    writeFileSync(join(dirs[i], 'tinc.conf'), `Name = ${names[i]}\nMode = switch\nDeviceType = tap\nInterface = ${devs[i]}\nAddressFamily = ipv4\n${connect}${crypto}`);
    writeFileSync(join(dirs[i], 'hosts', names[i]), `Address = ${n.host}\nPort = ${o.port}\n${crypto}`);
    writeFileSync(join(dirs[i], 'tinc-up'), `#!/bin/sh\nip addr add ${ip(i)}/24 dev "$INTERFACE"\nip link set "$INTERFACE" up\n`, { mode: 0o755 });
    // -K appends the public key to hosts/<Name> and writes rsa_key.priv (no prompt without a tty).
    execFileSync('tincd', ['-c', dirs[i], '-K2048'], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  for (const [i] of o.nodes.entries()) for (const [j] of o.nodes.entries()) if (i !== j) writeFileSync(join(dirs[j], 'hosts', names[i]), readFileSync(join(dirs[i], 'hosts', names[i])));
  const procs = o.nodes.map((n, i) => startIn(`${o.key}${i + 1}`, n.ns, 'tincd', ['-c', dirs[i], '-D', '-d0', `--pidfile=${join(dirs[i], 'pid')}`]));
  const t: Tunnel = { key: o.key, label: o.label, ip, procs, devs, stop: () => stopAll(procs) };
  try {
    await upOrDied(procs, waitPing(o.nodes[0].ns, ip(o.nodes.length - 1), 25_000));
    await new Promise((r) => setTimeout(r, o.pmtuMs));
  } catch (e) {
    await t.stop();
    throw e;
  }
  return t;
}

// ---- process figures ----------------------------------------------------------------------------

/** VmHWM (peak resident set) of a process in MiB; NaN once it is gone. */
export function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** `ethtool -k` features of a device that matter for throughput, e.g. "tso on, usso on". */
export async function offloads(ns: string, dev: string): Promise<string> {
  const r = await runIn(ns, 'ethtool', ['-k', dev], 5000);
  if (r.code !== 0) return 'ethtool failed';
  const get = (f: string) => /: (on|off)/.exec(r.stdout.split('\n').find((l) => l.trim().startsWith(f + ':')) ?? '')?.[1] ?? '?';
  return `tso ${get('tcp-segmentation-offload')}, usso ${get('tx-udp-segmentation')}, gro ${get('generic-receive-offload')}`;
}
