import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { insideVpn, tunnelDevice, underlayAddresses } from '../ts/edge/underlay.js';

describe('underlay addresses', () => {
  const iface = { IPv4CIDR: '192.168.76.0/24', IPv6CIDR: 'fd95:71cb:a3df:e586::/64', IPv6LLPrefix: 'fe80::a3df:0/112' };

  it('an address in one of the VPN subnets is inside the VPN, one outside is not', () => {
    assert.equal(insideVpn(iface, '192.168.76.9'), true);
    assert.equal(insideVpn(iface, '192.168.77.9'), false);
    assert.equal(insideVpn(iface, 'fd95:71cb:a3df:e586::5'), true);
    assert.equal(insideVpn(iface, '[fd95:71cb:a3df:e586::5]'), true);
    assert.equal(insideVpn(iface, 'fe80::a3df:12'), true);
    assert.equal(insideVpn(iface, '2001:db8::1'), false);
  });

  it('unset or unparsable subnets and non-numeric addresses are never inside', () => {
    assert.equal(insideVpn({ IPv4CIDR: '', IPv6CIDR: '', IPv6LLPrefix: '' }, '192.168.76.9'), false);
    assert.equal(insideVpn({ IPv4CIDR: 'nonsense', IPv6CIDR: '', IPv6LLPrefix: '' }, '192.168.76.9'), false);
    assert.equal(insideVpn(iface, 'example.com'), false);
  });

  it('the host list leaves out loopback, link-local v6, VPN subnets and disabled families', () => {
    const all = underlayAddresses(undefined, iface, { IPv4: false, IPv6: false });
    for (const a of all) {
      assert.ok(!a.address.startsWith('127.') && a.address !== '::1' && !a.address.startsWith('fe80'), a.address);
      assert.equal(insideVpn(iface, a.address), false);
    }
    assert.ok(underlayAddresses(undefined, iface, { IPv4: true, IPv6: false }).every((a) => a.family === 6));
    assert.ok(underlayAddresses(undefined, iface, { IPv4: false, IPv6: true }).every((a) => a.family === 4));
    // Every non-internal v4 address of a host without VPN subnets is offered, except those of
    // tunnel devices (test/edge-underlay-tunnels.test.ts).
    const none = { IPv4CIDR: '', IPv6CIDR: '', IPv6LLPrefix: '' };
    const v4 = underlayAddresses(undefined, none, { IPv4: false, IPv6: true }).map((a) => a.address);
    const want = Object.entries(networkInterfaces())
      .filter(([name]) => tunnelDevice(name) === undefined)
      .flatMap(([, list]) => list ?? [])
      .filter((a) => !a.internal && a.family === 'IPv4')
      .map((a) => a.address);
    assert.deepEqual(v4, want);
  });
});
