// FwMark: the edge's WireGuard sockets carry SO_MARK, so policy routing can keep tunnel traffic
// out of the tunnel. Checked from the kernel's side with ss(8).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { buildConfigs, Proc, startEdge, stopAll, waitFor } from '../helpers/mesh.js';
import { isRoot } from '../helpers/netns.js';

describe('e2e: FwMark', function () {
  this.timeout(20_000);
  const procs: Proc[] = [];
  before(function () {
    if (!isRoot()) this.skip(); // SO_MARK needs CAP_NET_ADMIN
  });
  after(() => stopAll(procs));

  it('sets SO_MARK on the IPv4 and IPv6 sockets', async () => {
    const port = 46000 + Math.floor(Math.random() * 3000);
    const { files } = buildConfigs({
      nodes: [
        { id: 1, host: '127.0.0.1', port, iface: { IType: 'dummy', Name: 'fw1' }, extra: { FwMark: 0x51820, DisabledAf: { IPv4: false, IPv6: false } } },
        { id: 2, host: '127.0.0.1', port: port + 1, iface: { IType: 'dummy', Name: 'fw2' } },
      ],
      links: [[1, 2]],
      table: {},
    });
    procs.push(startEdge(files.get(1)!, { args: ['-no-uapi'] }));
    await waitFor(() => procs[0].out.some((l) => l.includes(' up: ')), 10_000, `edge up: ${procs[0].out.join('\n')}`);
    const ss = execFileSync('ss', ['-uaneH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(ss.length, 2, ss.join('\n'));
    for (const l of ss) assert.match(l, /fwmark:0x51820/);
  });
});
