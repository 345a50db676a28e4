// Log lines read cleanly: no field printed as "undefined", no doubled "udp: udp:" prefix.
import assert from 'node:assert/strict';
import { Logger } from '../ts/shared/log.js';
import { udpErrorText } from '../ts/wgnode/host.js';

const capture = (json = false) => {
  const lines: string[] = [];
  const log = new Logger('t', { LogLevel: 'debug', LogTransit: false, LogNormal: false, LogControl: true, LogInternal: true }, json, { write: (l) => void lines.push(l) });
  return { log, lines };
};

describe('log line format', () => {
  it('a field whose value is undefined is left out of the text line (as JSON.stringify does), others kept', () => {
    const { log, lines } = capture();
    log.info('L2FIB learned', { mac: '02:00:00:00:00:01', node: 2, old: undefined });
    assert.match(lines[0]!, / INFO: L2FIB learned mac=02:00:00:00:00:01 node=2\n$/);
    assert.doesNotMatch(lines[0]!, /undefined/);
    const j = capture(true);
    j.log.info('L2FIB learned', { mac: 'm', node: 2, old: undefined });
    assert.equal('old' in JSON.parse(j.lines[0]!), false);
  });

  it('a UDP error is prefixed "udp: " once, whether or not its message already says udp', () => {
    assert.equal(udpErrorText(new Error('udp: 1 of 2 datagram(s) not sent (dropped): ENOBUFS')), 'udp: 1 of 2 datagram(s) not sent (dropped): ENOBUFS');
    assert.equal(udpErrorText(new Error('bind EADDRINUSE 0.0.0.0:3000')), 'udp: bind EADDRINUSE 0.0.0.0:3000');
  });

  it('drop summaries at LogLevel error are spaced 10 s on the monotonic clock, so a wall clock stepped back does not silence them', () => {
    const lines: string[] = [];
    let wall = Date.UTC(2026, 10, 30, 12);
    let mono = 0;
    const log = new Logger('t', { LogLevel: 'error', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false }, false, { write: (l) => void lines.push(l) }, () => wall, () => mono);
    log.drop('TTL expired');
    assert.equal(lines.length, 1, 'the first drop is summarised at once');
    wall -= 3600_000; // the system clock stepped back 1 h
    mono += 11_000;
    log.drop('TTL expired');
    assert.equal(lines.length, 2, `a summary 11 s later: ${lines.join('')}`);
    mono += 5_000;
    log.drop('TTL expired');
    assert.equal(lines.length, 2, 'not again within 10 s');
  });
});
