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
  /** Gives the root namespace address 10.<net>.0.<id> on the bridge. */
  joinRoot(id: number): void;
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
  let rootLink: string | undefined;
  return {
    hub,
    ns,
    addr: (id) => `10.${net}.0.${id}`,
    joinRoot(id: number) {
      // One more port on the bridge, in the root namespace, so this process can reach the hosts.
      rootLink = `egr${tag}x${net}`;
      const peer = `egq${tag}x${net}`;
      sh('ip', ['link', 'add', rootLink, 'type', 'veth', 'peer', 'name', peer]);
      sh('ip', ['link', 'set', peer, 'netns', hub]);
      sh('ip', ['-n', hub, 'link', 'set', peer, 'master', 'br0']);
      sh('ip', ['-n', hub, 'link', 'set', peer, 'up']);
      sh('ip', ['addr', 'add', `10.${net}.0.${id}/24`, 'dev', rootLink]);
      sh('ip', ['link', 'set', rootLink, 'up']);
    },
    teardown() {
      if (rootLink) {
        try {
          sh('ip', ['link', 'del', rootLink]);
        } catch {
          /* gone with the hub */
        }
      }
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
