// A star of network namespaces: one hub namespace with a bridge, and one namespace per node
// joined to it by a veth pair, addressed 10.<net>.0.<id>/24. Everything is removed by teardown()
// (and by the netns helper's exit hook if a test crashes).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { netnsAdd, netnsDel, sh } from './netns.js';

export interface Topo {
  hub: string;
  ns: Map<number, string>;
  addr: (id: number) => string;
  teardown(): void;
}

export function buildStar(ids: number[], net = 77): Topo {
  const hub = netnsAdd('eghub');
  sh('ip', ['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
  sh('ip', ['-n', hub, 'link', 'set', 'br0', 'up']);
  const ns = new Map<number, string>();
  const tag = (process.pid % 1000).toString();
  for (const id of ids) {
    const n = netnsAdd(`egn${id}`);
    ns.set(id, n);
    const a = `ega${tag}x${id}`;
    const b = `egb${tag}x${id}`;
    sh('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    sh('ip', ['link', 'set', a, 'netns', n]);
    sh('ip', ['link', 'set', b, 'netns', hub]);
    sh('ip', ['-n', n, 'link', 'set', a, 'name', 'veth0']);
    sh('ip', ['-n', n, 'addr', 'add', `10.${net}.0.${id}/24`, 'dev', 'veth0']);
    sh('ip', ['-n', n, 'link', 'set', 'veth0', 'up']);
    sh('ip', ['-n', hub, 'link', 'set', b, 'master', 'br0']);
    sh('ip', ['-n', hub, 'link', 'set', b, 'up']);
  }
  return {
    hub,
    ns,
    addr: (id) => `10.${net}.0.${id}`,
    teardown() {
      for (const n of ns.values()) netnsDel(n);
      netnsDel(hub);
    },
  };
}

/** Pings once per try (2 s timeout each) until one answer; the first ones pay for ARP and handshakes. */
export async function pingFrom(ns: string, ip: string, tries = 5): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    try {
      await promisify(execFile)('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '2', ip]);
      return true;
    } catch {
      /* retry */
    }
  }
  return false;
}
