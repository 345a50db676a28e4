// An edge that registers the moment its supernode's UDP side is up can be told to pull before the
// supernode's HTTP API listens (it binds a moment later): the pull's connection failure is retried
// on the next notice and is logged as an error only when it lasts (PullFailures in
// ts/edge/superclient.ts). The demo printed up to 18 "ERROR: cannot pull" lines on healthy starts.
import assert from 'node:assert/strict';
import { PullFailures } from '../ts/edge/superclient.js';

describe('super mode: pulls that cannot connect', () => {
  it('are quiet for the first seconds, errors once they last, and quiet again after an answer', () => {
    const f = new PullFailures(5);
    assert.equal(f.unreachable(100), false, 'the first failure');
    assert.equal(f.unreachable(101), false);
    assert.equal(f.unreachable(104.9), false);
    assert.equal(f.unreachable(105), true, '5 s without an answer');
    assert.equal(f.unreachable(130), true);
    f.answered();
    assert.equal(f.unreachable(131), false, 'a new quiet period after an answer');
    assert.equal(f.unreachable(136.5), true);
  });

  it('that keep failing give one error line a minute with the count held back, not one per notice; an answer resets it and says so', () => {
    const f = new PullFailures(5, 60);
    const said: Array<[number, number]> = [];
    // Two pulls a second (peer list and table) for three minutes, as with an unreachable edge API.
    for (let t = 200; t < 380; t += 0.5) {
      const d = f.errorDue(t);
      if (d.say) said.push([t, d.held]);
    }
    assert.deepEqual(said, [[200, 0], [260, 119], [320, 119]]);
    assert.equal(f.answered(), true, 'errors were said: the caller logs that it works again');
    assert.deepEqual(f.errorDue(381), { say: true, held: 0 }, 'after an answer the next error is said at once');
    f.answered();
    assert.equal(f.answered(), false, 'nothing said since the last answer');
  });
});
