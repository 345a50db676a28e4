// The edge has one wall clock: what NTP measures against (wallMs), what pings are stamped with
// (netMs = wallMs + NTP offset) and what kernel receive stamps are converted into
// (fromRealtimeMs) must be the same clock, or the NTP offset is applied to a clock it was not
// measured on (two fresh-clone runs on a loaded host: 3544 ms measured for a 3500 ms offset).
import assert from 'node:assert/strict';
import { loadNative } from '../ts/native/index.js';
import { systemClock } from '../ts/wgnode/clock.js';

describe('edge wall clock', () => {
  it('netMs is wallMs plus the NTP offset, and a kernel CLOCK_REALTIME stamp converts into the same clock', function () {
    const n = loadNative();
    const rt = n.ok ? (n.mod as unknown as { realtimeMs?: () => number }).realtimeMs : undefined;
    if (typeof rt !== 'function') this.skip();
    const prev = [process.env.EG_TEST, process.env.EG_TEST_CLOCK_OFFSET_MS];
    process.env.EG_TEST = '1';
    process.env.EG_TEST_CLOCK_OFFSET_MS = '-7200000';
    try {
      const c = systemClock();
      c.setNtpOffsetMs!(3500);
      for (let i = 0; i < 200; i++) {
        const w = c.wallMs();
        const net = c.netMs!();
        const k = c.fromRealtimeMs!(rt!());
        // Read one after the other: only the time between the reads separates them.
        assert.ok(net - w >= 3500 && net - w < 3505, `netMs - wallMs = ${net - w} ms, want the NTP offset 3500`);
        assert.ok(k - net >= 0 && k - net < 5, `kernel stamp in the ping clock minus netMs = ${k - net} ms`);
        assert.ok(Math.abs(w - (rt!() - 7200000)) < 5, 'wallMs is CLOCK_REALTIME plus the test offset');
      }
    } finally {
      [process.env.EG_TEST, process.env.EG_TEST_CLOCK_OFFSET_MS] = prev;
      if (prev[0] === undefined) delete process.env.EG_TEST;
      if (prev[1] === undefined) delete process.env.EG_TEST_CLOCK_OFFSET_MS;
    }
  });
});
