// Interop with a real WireGuard peer: Debian's wireguard-go.
//
// Topology (all torn down in after(), also when a test fails):
//
//   root netns                                    netns NS (fresh)
//   node:dgram UDP socket  10.213.X.1:<port>  ==veth==  10.213.X.2  wireguard-go :51820
//   driving our WASM core (ts/core/wg.ts)                  |
//   inner address 10.88.0.1 (we build/answer              TUN wgtXXXX 10.88.0.2/24 -> the
//   the IP packets ourselves)                              namespace's kernel (answers pings)
//
// The TS side runs in this mocha process in the root namespace and reaches wireguard-go over the
// veth pair. WireGuard's transport plaintext here is a raw IPv4 packet (wireguard-go's TUN is L3),
// so the Etherguard header is not used: encapsulate() takes arbitrary plaintext.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { createSocket, RemoteInfo, Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { addrKey, generatePrivateKey, keyToBase64, publicKey, TickKind, Verdict, WgDevice, WgTimers } from '../ts/core/wg.js';
import { isRoot, netnsAdd, netnsDel, runIn, sh } from './helpers/netns.js';
import { Proc, startEdge, stopAll, waitFor as waitUntil } from './helpers/mesh.js';
import { stringify } from 'yaml';

const WG_GO = '/usr/bin/wireguard-go';
const WG = '/usr/bin/wg';
const WG_PORT = 51820;
const OUR_INNER = '10.88.0.1';
const THEIR_INNER = '10.88.0.2';

// ----- IPv4 / ICMP -----

function ipv4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}

function inetChecksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** An IPv4 ICMP echo (type 8 request / 0 reply) with correct header and ICMP checksums. */
function icmpEcho(type: 0 | 8, src: string, dst: string, id: number, seq: number, payload: Uint8Array): Uint8Array {
  const icmp = new Uint8Array(8 + payload.length);
  const iv = new DataView(icmp.buffer);
  icmp[0] = type;
  iv.setUint16(4, id);
  iv.setUint16(6, seq);
  icmp.set(payload, 8);
  iv.setUint16(2, inetChecksum(icmp));
  const pkt = new Uint8Array(20 + icmp.length);
  const dv = new DataView(pkt.buffer);
  pkt[0] = 0x45;
  dv.setUint16(2, pkt.length);
  dv.setUint16(4, (id ^ seq) & 0xffff);
  dv.setUint16(6, 0x4000); // DF
  pkt[8] = 64;
  pkt[9] = 1; // ICMP
  pkt.set(ipv4Bytes(src), 12);
  pkt.set(ipv4Bytes(dst), 16);
  dv.setUint16(10, inetChecksum(pkt.subarray(0, 20)));
  pkt.set(icmp, 20);
  return pkt;
}

interface Echo {
  type: number;
  src: string;
  dst: string;
  id: number;
  seq: number;
  payload: Uint8Array;
  ip: Uint8Array;
}

/** Parses (and checks the checksums of) an IPv4 ICMP echo; trims WireGuard's zero padding. */
function parseEcho(padded: Uint8Array): Echo | undefined {
  if (padded.length < 28 || padded[0] >> 4 !== 4 || padded[9] !== 1) return undefined;
  const dv = new DataView(padded.buffer, padded.byteOffset, padded.byteLength);
  const ihl = (padded[0] & 15) * 4;
  const total = dv.getUint16(2);
  assert.ok(total <= padded.length, 'IP total length within the plaintext');
  assert.ok(padded.subarray(total).every((x) => x === 0), 'padding is zeros');
  const ip = padded.subarray(0, total);
  assert.equal(inetChecksum(ip.subarray(0, ihl)), 0, 'IPv4 header checksum');
  const icmp = ip.subarray(ihl);
  assert.equal(inetChecksum(icmp), 0, 'ICMP checksum');
  const t = icmp[0];
  if (t !== 0 && t !== 8) return undefined;
  return {
    type: t,
    src: Array.from(ip.subarray(12, 16)).join('.'),
    dst: Array.from(ip.subarray(16, 20)).join('.'),
    id: dv.getUint16(ihl + 4),
    seq: dv.getUint16(ihl + 6),
    payload: icmp.subarray(8),
    ip,
  };
}

// ----- our side: the WASM core on a UDP socket -----

function le32(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

/** Drives a WgDevice with one peer (wireguard-go) over a real UDP socket. */
class TsPeer {
  readonly priv = generatePrivateKey();
  readonly dev: WgDevice;
  readonly peer: number;
  readonly psk = new Uint8Array(randomBytes(32));
  sock!: Socket;
  port = 0;
  endpoint: { address: string; port: number } | undefined;
  private queue: Uint8Array[] = [];
  private timer: NodeJS.Timeout | undefined;
  readonly log: string[] = [];
  readonly errors: string[] = [];
  initiationsSent = 0;
  keepalivesSent = 0;
  responsesSent = 0;
  sessionsReady: number[] = []; // times (ms) we completed a handshake as initiator
  readonly rxIndices = new Set<number>(); // our receiver index on incoming transport messages
  readonly txIndices = new Set<number>(); // their receiver index on our transport messages
  onIp: ((ip: Uint8Array) => void) | undefined;

  constructor(
    readonly theirPublic: Uint8Array,
    timers?: WgTimers,
    persistentKeepalive = 0,
  ) {
    this.dev = new WgDevice(this.priv);
    if (timers) this.dev.setTimers(timers);
    this.peer = this.dev.addPeer(theirPublic, { psk: this.psk, persistentKeepalive });
  }

  get publicKey(): Uint8Array {
    return publicKey(this.priv);
  }

  async bind(address: string): Promise<void> {
    this.sock = createSocket('udp4');
    this.sock.on('message', (msg, rinfo) => this.onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo));
    await new Promise<void>((res, rej) => {
      this.sock.once('error', rej);
      this.sock.bind(0, address, () => res());
    });
    this.port = this.sock.address().port;
    this.timer = setInterval(() => this.runTimers(), 50);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    try {
      this.sock?.close();
    } catch {
      /* already closed */
    }
    this.dev.free();
  }

  private sendRaw(b: Uint8Array, to = this.endpoint): void {
    if (!to) throw new Error('no endpoint known yet');
    if (b[0] === 4) this.txIndices.add(le32(b, 4));
    this.sock.send(b, to.port, to.address);
  }

  /** Explicit handshake initiation. */
  initiate(): void {
    const r = this.dev.initiate(this.peer);
    if (!r.ok) throw new Error(`initiate: ${r.reasonName}`);
    this.initiationsSent++;
    this.log.push('tx initiation');
    this.sendRaw(r.packet);
  }

  /** Sends an IP packet through the tunnel (queued until a session exists). */
  sendIp(ip: Uint8Array): void {
    const r = this.dev.encapsulate(this.peer, ip);
    if (r.ok) {
      this.sendRaw(r.packet);
    } else if (r.reasonName === 'NoSession') {
      this.queue.push(ip);
      this.runTimers();
    } else {
      throw new Error(`encapsulate: ${r.reasonName}`);
    }
  }

  private flush(): void {
    const q = this.queue.splice(0);
    for (const ip of q) this.sendIp(ip);
  }

  runTimers(): void {
    for (const a of this.dev.tick()) {
      if (a.kind === TickKind.SendInitiation) {
        this.initiationsSent++;
        this.log.push('tx initiation (timer)');
        if (this.endpoint) this.sendRaw(a.packet);
      } else if (a.kind === TickKind.SendKeepalive) {
        this.keepalivesSent++;
        this.log.push('tx keepalive (timer)');
        if (this.endpoint) this.sendRaw(a.packet);
      } else if (a.kind === TickKind.HandshakeGaveUp) {
        this.log.push('handshake gave up');
        this.queue = [];
      } else {
        this.log.push('keys zeroed');
      }
    }
  }

  private onMessage(msg: Uint8Array, rinfo: RemoteInfo): void {
    const from = { address: rinfo.address, port: rinfo.port };
    const r = this.dev.handle(msg, addrKey(rinfo.address, rinfo.port));
    if (msg.length >= 8 && msg[0] === 4 && r.verdict !== Verdict.Error) this.rxIndices.add(le32(msg, 4));
    switch (r.verdict) {
      case Verdict.WriteToNetwork:
        // We answered their initiation: roam to where it came from.
        this.endpoint = from;
        this.responsesSent++;
        this.log.push('rx initiation, tx response');
        this.sendRaw(r.packet);
        break;
      case Verdict.SessionReady:
        this.endpoint = from;
        this.sessionsReady.push(Date.now());
        this.log.push('rx response: session ready');
        this.sendRaw(r.packet);
        this.flush();
        break;
      case Verdict.CookieReply:
        this.sendRaw(r.packet, from);
        break;
      case Verdict.Data:
        this.endpoint = from;
        this.log.push(`rx data ${r.data.length}`);
        this.onIp?.(r.data);
        this.flush();
        break;
      case Verdict.Keepalive:
        this.log.push('rx keepalive');
        this.flush();
        break;
      case Verdict.Nothing:
        break;
      case Verdict.Error:
        this.errors.push(r.reasonName);
        this.log.push(`rx error ${r.reasonName}`);
        break;
    }
  }
}

function waitFor<T>(what: string, ms: number, fn: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    fn((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('WireGuard interop with wireguard-go (real UDP, netns)', function () {
  this.timeout(30000);

  let ns = '';
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 10)}`;
  const iface = `wgt${tag}`; // <= 15 chars; the UAPI socket is /var/run/wireguard/<iface>.sock
  const vethRoot = `egwr${tag}`;
  const vethNs = `egwn${tag}`;
  const subnet = `10.213.${(process.pid + Math.floor(Math.random() * 50)) % 250}`;
  const rootAddr = `${subnet}.1`;
  const nsAddr = `${subnet}.2`;
  let tmp = '';
  let wgGo: ChildProcess | undefined;
  let wgGoLog = '';
  const theirPriv = generatePrivateKey();
  const theirPub = publicKey(theirPriv);
  let current: TsPeer | undefined;
  let configuredPeer: Uint8Array | undefined;
  let edge: Proc | undefined;

  const wg = (...args: string[]): string => sh('ip', ['netns', 'exec', ns, WG, ...args]);

  before(async function () {
    if (!isRoot() || !existsSync(WG_GO) || !existsSync(WG)) this.skip();
    tmp = mkdtempSync(join(tmpdir(), 'eg-wg-interop-'));
    ns = netnsAdd('egwg');
    sh('ip', ['link', 'add', vethRoot, 'type', 'veth', 'peer', 'name', vethNs, 'netns', ns]);
    sh('ip', ['addr', 'add', `${rootAddr}/30`, 'dev', vethRoot]);
    sh('ip', ['link', 'set', vethRoot, 'up']);
    sh('ip', ['-n', ns, 'addr', 'add', `${nsAddr}/30`, 'dev', vethNs]);
    sh('ip', ['-n', ns, 'link', 'set', vethNs, 'up']);

    wgGo = spawn('ip', ['netns', 'exec', ns, WG_GO, '-f', iface], {
      env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    wgGo.stdout!.on('data', (d: Buffer) => (wgGoLog += d.toString()));
    wgGo.stderr!.on('data', (d: Buffer) => (wgGoLog += d.toString()));
    const sock = `/var/run/wireguard/${iface}.sock`;
    for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(50);
    assert.ok(existsSync(sock), `wireguard-go did not create ${sock}:\n${wgGoLog}`);

    const keyFile = join(tmp, 'their.key');
    writeFileSync(keyFile, keyToBase64(theirPriv) + '\n', { mode: 0o600 });
    wg('set', iface, 'private-key', keyFile, 'listen-port', String(WG_PORT));
    sh('ip', ['-n', ns, 'addr', 'add', `${THEIR_INNER}/24`, 'dev', iface]);
    sh('ip', ['-n', ns, 'link', 'set', iface, 'up']);
  });

  after(async () => {
    current?.close();
    current = undefined;
    if (edge) await stopAll([edge]);
    if (wgGo && wgGo.exitCode === null) {
      const exited = new Promise<void>((r) => wgGo!.once('exit', () => r()));
      wgGo.kill('SIGTERM');
      await Promise.race([exited, sleep(2000)]);
      if (wgGo.exitCode === null) wgGo.kill('SIGKILL');
    }
    if (ns) netnsDel(ns); // also destroys both veth ends and the TUN
    try {
      sh('ip', ['link', 'del', vethRoot]);
    } catch {
      /* gone with the namespace */
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      console.log(`--- our log:\n${current?.log.join('\n')}\n--- errors: ${current?.errors.join(', ')}`);
      if (edge) console.log(`--- our edge:\n${edge.out.slice(-30).join('\n')}`);
      console.log(`--- wireguard-go log (tail):\n${wgGoLog.split('\n').slice(-40).join('\n')}`);
      try {
        console.log(wg('show', iface));
      } catch {
        /* ignore */
      }
    }
    current?.close();
    current = undefined;
    if (edge) await stopAll([edge]);
    edge = undefined;
  });

  /** A fresh TsPeer, configured as wireguard-go's only peer (PSK, allowed-ips, endpoint). */
  async function freshPeer(timers?: WgTimers, persistentKeepalive = 0): Promise<TsPeer> {
    const p = new TsPeer(theirPub, timers, persistentKeepalive);
    current = p;
    await p.bind(rootAddr);
    p.endpoint = { address: nsAddr, port: WG_PORT };
    if (configuredPeer) wg('set', iface, 'peer', keyToBase64(configuredPeer), 'remove');
    const pskFile = join(tmp, 'psk');
    writeFileSync(pskFile, keyToBase64(p.psk) + '\n', { mode: 0o600 });
    wg(
      'set', iface, 'peer', keyToBase64(p.publicKey),
      'preshared-key', pskFile,
      'allowed-ips', `${OUR_INNER}/32`,
      'endpoint', `${rootAddr}:${p.port}`,
    );
    configuredPeer = p.publicKey;
    return p;
  }

  /**
   * Our edge as a real process (`node dist/main.js edge`, IType dummy) with wireguard-go as its
   * only peer (NodeID 2, static endpoint), and wireguard-go configured with the edge as its only
   * peer. `ourKa` / `theirKa`: persistent keepalive (s) on each side. Nothing but WireGuard's own
   * messages flows: the edge has no routes and the dummy interface delivers no frames.
   */
  async function freshEdge(ourKa: number, theirKa: number): Promise<{ name: string; pub: string }> {
    const priv = generatePrivateKey();
    const pub = keyToBase64(publicKey(priv));
    const psk = keyToBase64(new Uint8Array(randomBytes(32)));
    const port = 30000 + Math.floor(Math.random() * 5000);
    const name = `egwgpk${tag}`;
    const cfg = {
      Interface: { IType: 'dummy', Name: `egwgpk${tag}`, MacAddrPrefix: 'AA:BB:CC:DD', MTU: 1404 },
      NodeID: 1,
      NodeName: name,
      PrivKey: keyToBase64(priv),
      ListenPort: port,
      DisabledAf: { IPv6: true },
      LogLevel: { LogLevel: 'error' },
      NextHopTable: {},
      Peers: [{ NodeID: 2, PubKey: keyToBase64(theirPub), PSKey: psk, EndPoint: `${nsAddr}:${WG_PORT}`, PersistentKeepalive: ourKa, Static: true }],
    };
    const file = join(tmp, 'edge.yaml');
    writeFileSync(file, stringify(cfg));
    if (configuredPeer) wg('set', iface, 'peer', keyToBase64(configuredPeer), 'remove');
    const pskFile = join(tmp, 'psk');
    writeFileSync(pskFile, psk + '\n', { mode: 0o600 });
    // Each side knows the other before either may send: wireguard-go first (our edge's first
    // initiation would otherwise be refused and retried only REKEY_TIMEOUT later), then our
    // edge, then wireguard-go's keepalive (turning it on sends one at once, as our edge does).
    wg(
      'set', iface, 'peer', pub,
      'preshared-key', pskFile,
      'allowed-ips', `${OUR_INNER}/32`,
      'endpoint', `${rootAddr}:${port}`,
    );
    configuredPeer = publicKey(priv);
    edge = startEdge(file);
    await waitUntil(() => edge!.out.some((l) => l.includes(' up: ')), 10000, `our edge up:\n${edge.out.join('\n')}`);
    if (theirKa) wg('set', iface, 'peer', pub, 'persistent-keepalive', String(theirKa));
    return { name, pub };
  }

  /** wireguard-go's view of its only peer: latest handshake (epoch s, 0 = never), rx and tx bytes. */
  function theirView(): { handshake: number; rx: number; tx: number } {
    const hs = wg('show', iface, 'latest-handshakes').trim().split(/\s+/);
    const tr = wg('show', iface, 'transfer').trim().split(/\s+/);
    return { handshake: Number(hs[1] ?? 0), rx: Number(tr[1] ?? 0), tx: Number(tr[2] ?? 0) };
  }

  /** Our edge's view of its only peer through its UAPI socket (the stock `wg show`). */
  function ourView(name: string): { handshake: number; rx: number; tx: number } {
    const hs = sh(WG, ['show', name, 'latest-handshakes']).trim().split(/\s+/);
    const tr = sh(WG, ['show', name, 'transfer']).trim().split(/\s+/);
    return { handshake: Number(hs[1] ?? 0), rx: Number(tr[1] ?? 0), tx: Number(tr[2] ?? 0) };
  }

  it('(1) we initiate, carry an ICMP echo request to the kernel behind the TUN, and decrypt the reply', async () => {
    const p = await freshPeer();
    const id = 0xe6e6;
    const seq = 1;
    const payload = new TextEncoder().encode('etherguard interop ping 0123456789');
    const replies = new Map<number, Echo>();
    let want = 1;
    let allIn: () => void = () => undefined;
    p.onIp = (data) => {
      const e = parseEcho(data);
      if (e && e.type === 0 && e.id === id) replies.set(e.seq, e);
      if (replies.size >= want) allIn();
    };
    const gotReply = waitFor<Echo>('the echo reply', 8000, (done) => {
      allIn = () => done(replies.get(seq)!);
    });
    p.initiate();
    await waitFor<void>('the handshake response', 5000, (done) => {
      const t = setInterval(() => {
        if (p.sessionsReady.length > 0) {
          clearInterval(t);
          done();
        }
      }, 10);
    });
    p.sendIp(icmpEcho(8, OUR_INNER, THEIR_INNER, id, seq, payload));
    const reply = await gotReply;
    assert.equal(reply.src, THEIR_INNER);
    assert.equal(reply.dst, OUR_INNER);
    assert.equal(reply.id, id);
    assert.equal(reply.seq, seq);
    assert.deepEqual(reply.payload, payload);
    // Every size class both ways: IP lengths around the 16-byte padding and the 64/256-byte
    // ChaCha20 block/group boundaries, up to the TUN MTU (1420).
    const sizes = [0, 1, 4, 5, 20, 36, 37, 100, 211, 212, 213, 228, 229, 484, 485, 996, 1000, 1391, 1392];
    want = 1 + sizes.length;
    const more = waitFor<void>('echo replies of every size', 8000, (done) => {
      allIn = () => done();
    });
    sizes.forEach((n, i) => p.sendIp(icmpEcho(8, OUR_INNER, THEIR_INNER, id, 100 + i, new Uint8Array(randomBytes(n)))));
    await more;
    sizes.forEach((n, i) => {
      const r = replies.get(100 + i);
      assert.ok(r, `reply to a ${n}-byte echo`);
      assert.equal(r.payload.length, n);
      assert.equal(r.ip.length, 28 + n);
    });
    assert.equal(p.initiationsSent, 1);
    assert.deepEqual(p.errors, []);
    // wireguard-go agrees a handshake happened with our key.
    const hs = wg('show', iface, 'latest-handshakes').trim().split(/\s+/);
    assert.equal(hs[0], keyToBase64(p.publicKey));
    assert.ok(Number(hs[1]) > 0);
  });

  it('(2) wireguard-go initiates (ping from the netns): we answer the handshake, decrypt the request, reply', async () => {
    const p = await freshPeer();
    const requests: Echo[] = [];
    p.onIp = (data) => {
      const e = parseEcho(data);
      if (!e || e.type !== 8) return;
      requests.push(e);
      assert.equal(e.src, THEIR_INNER);
      assert.equal(e.dst, OUR_INNER);
      p.sendIp(icmpEcho(0, OUR_INNER, THEIR_INNER, e.id, e.seq, e.payload));
    };
    const ping = await runIn(ns, 'ping', ['-c', '1', '-W', '5', '-n', OUR_INNER], { timeoutMs: 15000 });
    assert.equal(ping.code, 0, `ping failed:\n${ping.stdout}${ping.stderr}`);
    assert.match(ping.stdout, /1 received/);
    assert.equal(requests.length, 1);
    assert.equal(p.responsesSent, 1, 'we answered one initiation');
    assert.equal(p.initiationsSent, 0, 'we never initiated');
    assert.deepEqual(p.errors, []);
  });

  it('(3) rekey: with rekey-after-time 2 s a second handshake happens and traffic continues', async function () {
    this.timeout(20000);
    const p = await freshPeer({ rekeyAfterTime: 2, rekeyTimeout: 1 });
    const id = 0x7e57;
    const replies = new Map<number, number>(); // seq -> time received
    p.onIp = (data) => {
      const e = parseEcho(data);
      if (e && e.type === 0 && e.id === id && e.src === THEIR_INNER) replies.set(e.seq, Date.now());
    };
    const start = Date.now();
    let seq = 0;
    // One ping every 200 ms for 5.5 s: the first send starts the handshake (through tick()).
    while (Date.now() - start < 5500) {
      p.sendIp(icmpEcho(8, OUR_INNER, THEIR_INNER, id, ++seq, new Uint8Array(56).fill(seq & 0xff)));
      await sleep(200);
    }
    await sleep(500);
    if (process.env.EG_TEST_VERBOSE) {
      console.log(`    handshakes at +${p.sessionsReady.map((t) => t - start).join(' ms, +')} ms; ` +
        `rx indices ${[...p.rxIndices].map((x) => x.toString(16)).join(',')}; replies ${replies.size}/${seq}`);
    }
    assert.ok(p.sessionsReady.length >= 2, `handshakes completed: ${p.sessionsReady.length}`);
    assert.ok(p.rxIndices.size >= 2, `receiver indices seen: ${[...p.rxIndices].join(', ')}`);
    assert.ok(p.txIndices.size >= 2, `their indices used: ${[...p.txIndices].join(', ')}`);
    const second = p.sessionsReady[1];
    assert.ok(second - start >= 1900, 'the rekey came from rekey-after-time, not a retry');
    const after = [...replies.values()].filter((t) => t > second + 100).length;
    assert.ok(after >= 3, `replies after the rekey: ${after}`);
    assert.equal(replies.size, seq, `every echo answered (${replies.size}/${seq})`);
    assert.deepEqual(p.errors, []);
  });

  it('(4) our edge with PersistentKeepalive 1 and no traffic handshakes with wireguard-go at once, then keeps sending keepalives', async function () {
    this.timeout(20000);
    const ours = await freshEdge(1, 0);
    await waitUntil(() => theirView().handshake > 0, 3000, 'wireguard-go to report a handshake with our idle edge');
    const before = theirView();
    await sleep(3200);
    const after = theirView();
    // wireguard-go counts 32 bytes per keepalive; one a second arrives and nothing else flows
    assert.ok(after.rx - before.rx >= 2 * 32, `wireguard-go received ${after.rx - before.rx} bytes in 3.2 s`);
    assert.ok(after.rx - before.rx <= 5 * 32, `wireguard-go received ${after.rx - before.rx} bytes in 3.2 s`);
    assert.equal(after.handshake, before.handshake, 'no further handshake was needed');
    assert.ok(ourView(ours.name).handshake > 0, 'our edge reports the handshake too');
  });

  it('(5) wireguard-go with persistent-keepalive 1 toward our idle edge reaches a handshake with us', async function () {
    this.timeout(20000);
    const ours = await freshEdge(0, 1);
    await waitUntil(() => theirView().handshake > 0 && ourView(ours.name).handshake > 0, 4000, 'a handshake initiated by wireguard-go');
    const before = ourView(ours.name);
    await sleep(3200);
    const after = ourView(ours.name);
    assert.ok(after.rx - before.rx >= 2 * 32, `our edge received ${after.rx - before.rx} bytes of wireguard-go's keepalives in 3.2 s`);
    assert.equal(after.tx, before.tx, 'our edge (keepalive off) sends nothing back to keepalives');
  });

  it('(6) persistent keepalives alone carry a session and rekey it after rekey-after-time (WASM core, 2 s)', async function () {
    this.timeout(20000);
    // No explicit initiate() and no data: the keepalive due at configuration starts the session,
    // the keepalives every second keep it, and the one sent after 2 s rekeys it.
    const p = await freshPeer({ rekeyAfterTime: 2, rekeyTimeout: 1 }, 1);
    await sleep(5500);
    assert.ok(p.sessionsReady.length >= 2, `handshakes completed: ${p.sessionsReady.length}\n${p.log.join('\n')}`);
    assert.ok(p.keepalivesSent >= 3, `keepalives sent: ${p.keepalivesSent}`);
    assert.ok(p.rxIndices.size === 0, 'wireguard-go sent no transport data (nothing to answer)');
    assert.ok(p.txIndices.size >= 2, `keepalives went out on ${p.txIndices.size} keypairs`);
    const hs = wg('show', iface, 'latest-handshakes').trim().split(/\s+/);
    assert.ok(Number(hs[1]) > 0);
    assert.deepEqual(p.errors, []);
  });
});
