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
});
