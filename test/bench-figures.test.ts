// The benchmark's figure arithmetic (bench/lib/netbench.ts): the UDP packets-received rate read
// from iperf3's JSON, and the percentile / median used for the comparison table. The benchmark
// itself (bench/compare.bench.ts) needs root and minutes, so it is not part of the suite.
import assert from 'node:assert/strict';
import { iperfFigures, median, percentile } from '../bench/lib/netbench.js';

describe('benchmark figures', () => {
  it('counts UDP datagrams received as expected minus lost, per receiver second (iperf3 3.12 JSON)', () => {
    // Shape and numbers from a real `iperf3 -u -l 64 -b 0 -t 2 -J` run over a veth.
    const j = {
      end: {
        sum_sent: { retransmits: 0 },
        sum_received: { seconds: 2.000066, bits_per_second: 263864828.46, packets: 1056994, lost_packets: 26238, bytes: 65968384 },
      },
    };
    const f = iperfFigures(j, true);
    assert.equal(Math.round(f.rxPps * 2.000066), 65968384 / 64);
    assert.ok(Number.isNaN(iperfFigures(j, false).rxPps), 'a TCP run has no packet rate');
    assert.equal(f.bps, 263864828.46);
  });

  it('refuses an iperf3 run that reported an error or no receiver sum', () => {
    assert.throws(() => iperfFigures({ error: 'unable to connect to server' }, false), /unable to connect/);
    assert.throws(() => iperfFigures({ end: {} }, true), /no result/);
  });

  it('takes nearest-rank percentiles and medians of the finite values only', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile([5, 1, 3], 50), 3);
    assert.ok(Number.isNaN(percentile([], 99)));
    assert.equal(median([3, NaN, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([NaN])), 'a system that failed every round has no median');
  });
});
