// Which kind of config file a mapping is: an edge's, a supernode's or a gencfg input. A file given
// to the wrong mode (`-mode super -config edge.yaml`) otherwise fails on the keys the expected kind
// misses ("PrivKeyV4: is required", "NodeID belongs under Peers[]"), and those errors hide that the
// whole file is of the other kind.
import { edgeSchema } from './schema/edge.js';
import { superSchema } from './schema/super.js';

export type ConfigKind = 'edge' | 'super';

/** Top-level keys of `a`'s schema that `b`'s does not have at the top level, in schema order. */
function onlyIn(a: object, b: object): string[] {
  const bk = new Set(Object.keys((b as { properties: object }).properties));
  return Object.keys((a as { properties: object }).properties).filter((k) => !bk.has(k));
}

/** The keys a reader recognises each kind by first, named first in the messages. */
const TELLING: Record<ConfigKind, readonly string[]> = { edge: ['NodeID', 'PrivKey', 'Interface'], super: ['PrivKeyV4', 'PrivKeyV6', 'ListenPort_EdgeAPI'] };

let distinct: Record<ConfigKind, string[]> | undefined;
const distinctKeys = (): Record<ConfigKind, string[]> => {
  const telling = (k: ConfigKind, keys: string[]) => [...TELLING[k].filter((t) => keys.includes(t)), ...keys.filter((t) => !TELLING[k].includes(t))];
  return (distinct ??= { edge: telling('edge', onlyIn(edgeSchema, superSchema)), super: telling('super', onlyIn(superSchema, edgeSchema)) });
};

/**
 * Top-level keys of a gencfg input (ts/gencfg/input.ts, upstream's gencfg YAML); none is a key of
 * either config, so any of them marks such a file.
 */
const GENCFG_KEYS = ['Config output dir', 'Network name', 'Super Node', 'Edge Node', 'Edge Nodes', 'Distance matrix for all nodes', 'ConfigTemplate for edge node', 'ConfigTemplate for super node'];

const LABEL: Record<ConfigKind, string> = { edge: 'an edge config', super: 'a supernode config' };
const OWNER: Record<ConfigKind, string> = { edge: "an edge's", super: "a supernode's" };

function list(keys: readonly string[], max: number): string {
  return keys.length <= max ? keys.join(', ') : `${keys.slice(0, max).join(', ')}, …`;
}

/**
 * When the top-level mapping `data`, loaded as a config of kind `expected`, is plainly a file of
 * another kind, the sentence saying so and which mode runs it, and the key to point at; else
 * undefined. "Plainly": it has none of the top-level keys that only `expected` has and at least
 * two that only the other kind has (or one of a gencfg input's). Keys compare without case:
 * upstream releases before 2021-12 wrote them lower-case.
 */
export function wrongKind(data: Record<string, unknown>, expected: ConfigKind): { message: string; key: string } | undefined {
  const written = Object.keys(data);
  const has = (names: readonly string[]) => {
    const want = new Set(names.map((n) => n.toLowerCase()));
    return written.filter((k) => want.has(k.toLowerCase()));
  };
  const gen = has(GENCFG_KEYS);
  if (gen.length > 0 && has(distinctKeys()[expected]).length === 0) {
    return {
      message: `this looks like a gencfg input, not ${LABEL[expected]} (it has ${list(gen.map((k) => JSON.stringify(k)), 3)}); generate configs from it with -mode gencfg -cfgmode super|static|p2p -config FILE, then run each with -mode edge or -mode super`,
      key: gen[0]!,
    };
  }
  const other: ConfigKind = expected === 'edge' ? 'super' : 'edge';
  const own = has(distinctKeys()[expected]);
  // Named in the order a reader recognises them by (TELLING first), not file order.
  const order = distinctKeys()[other].map((k) => k.toLowerCase());
  const theirs = has(distinctKeys()[other]).sort((a, b) => order.indexOf(a.toLowerCase()) - order.indexOf(b.toLowerCase()));
  if (own.length > 0 || theirs.length < 2) return undefined;
  return {
    message:
      `this looks like ${LABEL[other]}, not ${LABEL[expected]}: it has ${list(theirs, 4)} and none of ${OWNER[expected]} keys ` +
      `(${list(distinctKeys()[expected], 3)}); run it with -mode ${other}`,
    key: theirs[0]!,
  };
}
