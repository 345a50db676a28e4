// JSON numbers beyond double range (1e309) parse to Infinity, which every `type: number` schema
// accepts but JSON cannot carry on: a control message holding one is refused with ProtoError
// naming the field, in every decoder (found by bench/fuzz-ts.ts: an accepted NodeInfo report with
// AdditionalCost 1e309 re-encoded as null).
import assert from 'node:assert/strict';
import { decode, ProtoError } from '../ts/proto/control.js';

const cases: [keyof typeof decode, string, string][] = [
  ['nodeInfo', '{"v":1,"Pongs":[{"Src":1,"Dst":2,"Timediff":0.002,"TimeToAlive":60,"AdditionalCost":1e309}],"LocalV4s":{},"LocalV6s":{}}', 'AdditionalCost'],
  ['ping', '{"v":1,"Src":1,"Time":1e999,"RequestReply":0}', 'Time'],
  ['superParams', '{"SendPingInterval":15,"HttpPostInterval":50,"PeerAliveTimeout":1e400,"DampingFilterRadius":4,"AdditionalCost":10}', 'PeerAliveTimeout'],
  ['pongOrReport', '{"v":1,"Src":1,"Dst":2,"Timediff":0.001,"TimeToAlive":70,"AdditionalCost":1e309}', 'AdditionalCost'],
  ['pong', '{"v":1,"Src":1,"Dst":2,"Timediff":0.001,"TimeToAlive":70,"AdditionalCost":-1e309}', 'AdditionalCost'],
  // Overflow with an exponent below 309 (digits before the point count too), and without any.
  ['pong', '{"v":1,"Src":1,"Dst":2,"Timediff":0.001,"TimeToAlive":70,"AdditionalCost":12345678901e299}', 'AdditionalCost'],
  ['pong', `{"v":1,"Src":1,"Dst":2,"Timediff":0.001,"TimeToAlive":70,"AdditionalCost":${'9'.repeat(310)}}`, 'AdditionalCost'],
  ['pong', '{"v":1,"Src":1,"Dst":2,"Timediff":0.001,"TimeToAlive":70,"AdditionalCost":1E+0309}', 'AdditionalCost'],
];

describe('control messages with numbers beyond double range', () => {
  for (const [name, text, field] of cases) {
    it(`${name}: ${field} = ±Infinity is refused with ProtoError naming the field`, () => {
      assert.throws(
        () => (decode[name] as (b: string) => unknown)(text),
        (e: unknown) => e instanceof ProtoError && e.message.includes(field) && /finite/.test(e.message),
      );
    });
  }
  it('the same messages with finite values still decode', () => {
    for (const [name, text] of cases) {
      assert.doesNotThrow(() => (decode[name] as (b: string) => unknown)(text.replace(/-?(1[eE]\+?[0-9]+|12345678901e299|9{310})/, '5')));
    }
  });
  it('a deeply nested message is refused as a ProtoError, not a stack overflow', () => {
    const deep = `{"v":1,"Src":1,"Dst":2,"Timediff":${'['.repeat(60000)}1e999${']'.repeat(60000)}}`;
    assert.throws(() => decode.pongOrReport(deep), (e: unknown) => e instanceof ProtoError);
  });
  it('a LinkReport decodes to the same values on the fast path (no number near the range limit)', () => {
    const text = '{"v":1,"Dst":2,"AdditionalCost":0,"Links":[[1,-3.25e-5,2.5],[3,0.0123,2.5],[4,9.5e-300,1e2]]}';
    assert.deepEqual(decode.pongOrReport(text), { report: JSON.parse(text) });
  });
});
