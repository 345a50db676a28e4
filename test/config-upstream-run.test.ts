// An edge config as etherguard-go's generator writes it for a supernode without IPv6 (PubKeyV6
// set, EndpointV6 "") must not only load but run: the edge registers with a real supernode over
// IPv4 on loopback, and its AdditionalLocalIP given as a host name reaches the supernode as an
// address (upstream resolves it before reporting).
import assert from 'node:assert/strict';
import { startLoopbackSuper, until, type LoopbackSuper } from './helpers/loopback-super.js';

describe('an upstream-generated edge config (supernode without IPv6) runs', function () {
  this.timeout(30_000);
  let m: LoopbackSuper | undefined;
  after(async () => m?.stop());

  it('loads with a warning about PubKeyV6, registers over IPv4 and reports a host-name AdditionalLocalIP as an address', async () => {
    m = await startLoopbackSuper({
      superExtra: 'HttpPostInterval: 1\nSendPingInterval: 1',
      editEdge: (t) => t.replace('    SkipLocalIP: false\n', '    SkipLocalIP: true\n    AdditionalLocalIP: ["localhost:40001"]\n'),
    });
    assert.deepEqual(m.warnings.map((w) => w.path), ['DynamicRoute.SuperNode.PubKeyV6']);
    assert.deepEqual(m.edge.peers.supers.map((p) => p.configured), [`127.0.0.1:${m.sn.udpPort}`]);
    const sn = m.sn;
    const st = await until(() => {
      const s = sn.state().Status['1'];
      return s?.Alive && s.ExternalV4 !== '' && Object.keys(s.LocalV4s).length > 0 && s;
    }, 20_000, 'edge 1 registered and reported');
    assert.match(st.ExternalV4, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(st.LocalV4s, { '127.0.0.1:40001': 50 });
  });
});
