// The config schemas' ajv settings, and the translation of ajv's errors into plain sentences that
// name the key path.
import type { ErrorObject } from 'ajv';
import type { AjvProfile } from '../shared/schema-check.js';
import { closestKey, describe, formatPath, type Segment } from './problems.js';
import { WHY } from './schema/common.js';

/** The config schemas' ajv settings (ts/shared/schema-check.ts makes the validators). */
export const CONFIG_AJV: AjvProfile = { name: 'config', options: { allErrors: true, useDefaults: true, verbose: true, strict: true }, keywords: [WHY] };

export interface RawProblem {
  segs: Segment[];
  message: string;
  /** Where to point in the text when not at `segs` (a missing key: the misspelt key standing for it). */
  at?: Segment[];
}

/** JSON pointer → segments, using the data to tell array indexes from numeric map keys. */
function pointerToSegs(pointer: string, root: unknown): Segment[] {
  if (pointer === '') return [];
  const segs: Segment[] = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      segs.push(Number(key));
      cur = cur[Number(key)];
    } else {
      segs.push(key);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
    }
  }
  return segs;
}

const ARTICLE: Record<string, string> = {
  integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false',
  object: 'a mapping of keys', array: 'a list', null: 'empty',
};

/**
 * The parenthesis after a range error: the allowed range when the schema has both bounds, and
 * the schema's WHY note for the bound that failed (a note per keyword, so a note about 0 is not
 * given for a value above the maximum; a plain string note applies to every bound).
 */
function why(e: ErrorObject): string {
  const ps = e.parentSchema as Record<string, unknown> | undefined;
  const w = ps?.[WHY];
  const note = typeof w === 'string' ? w : w !== null && typeof w === 'object' ? (w as Record<string, unknown>)[e.keyword] : undefined;
  const parts: string[] = [];
  if (typeof ps?.minimum === 'number' && typeof ps?.maximum === 'number') parts.push(`allowed: ${ps.minimum}..${ps.maximum}`);
  if (typeof note === 'string') parts.push(note);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

/**
 * Keys etherguard-go's own docs or its older versions use but its current code does not read: a
 * plain "did you mean" would hide what they were, and the older names are too far from the new
 * ones for closestKey. Keyed by the lower-case name: releases before 2021-12-04 had no yaml tags,
 * so yaml.v2 read (and upstream's examples wrote) the lower-cased field names, e.g. `connurlv4`.
 * `now`: the key that took its place; `note`: what to say. Sources: the reference
 * (/work/shared/reference/etherguard-upstream.md §3.1: "the docs call it ResetConnInterval") and
 * upstream's history: commit e311314 (2021-12-04, SuperInfo ConnURLV4/ConnURLV6/APIUrl →
 * EndpointV4/EndpointV6/EndpointEdgeAPIUrl), db8cf47 (2021-12-09, DynamicRoute ConnTimeOut →
 * TimeoutCheckInterval, same use), cdb096b (2021-12-26, DampingResistance → DampingFilterRadius,
 * a different filter).
 */
const UPSTREAM_NAMES: Record<string, { name: string; now: string; note: string }> = Object.fromEntries(
  [
    {
      name: 'ResetConnInterval',
      now: 'ResetEndPointInterval',
      note: "ResetConnInterval is upstream's documented name of ResetEndPointInterval, which upstream's code ignores too; rename it to ResetEndPointInterval to take effect",
    },
    ...(['V4', 'V6'] as const).map((v) => ({
      name: `ConnURL${v}`,
      now: `Endpoint${v}`,
      note: `ConnURL${v} is the name upstream used before 2021-12 for Endpoint${v} (the supernode's ${v === 'V4' ? 'IPv4' : 'IPv6'} host:port); rename it to Endpoint${v}`,
    })),
    {
      name: 'APIUrl',
      now: 'EndpointEdgeAPIUrl',
      note: "APIUrl is the name upstream used before 2021-12 for EndpointEdgeAPIUrl (the supernode's edge API base URL); rename it to EndpointEdgeAPIUrl",
    },
    {
      name: 'ConnTimeOut',
      now: 'TimeoutCheckInterval',
      note: 'ConnTimeOut is the name upstream used before 2021-12 for TimeoutCheckInterval (seconds between checks for dead peers to try their next endpoint); rename it to TimeoutCheckInterval',
    },
    {
      name: 'DampingResistance',
      now: 'DampingFilterRadius',
      note:
        "DampingResistance is upstream's older latency smoothing (latency = old × R + new × (1 − R), R in (0, 1]), which upstream replaced in 2021-12 by DampingFilterRadius, " +
        'the window (2r+1 measurements) of its latency filter; the value is not converted: delete DampingResistance and set DampingFilterRadius (default 4) if you want another window',
    },
  ].map((e) => [e.name.toLowerCase(), e]),
);

/**
 * The upstream older name among `unknown` (keys dropped from one mapping) that stands for `key`,
 * with its note, or undefined. For errors about a missing or empty `key` whose value was written
 * under its old name.
 */
export function olderNameOf(key: string, unknown: readonly string[]): { written: string; note: string } | undefined {
  for (const u of unknown) {
    const e = UPSTREAM_NAMES[u.toLowerCase()];
    if (e !== undefined && e.now === key) return { written: u, note: e.note };
  }
  return undefined;
}

/**
 * Where each key name of a schema may be written: key name → the dotted paths of the mappings
 * that have it ("" = top level; "Peers[]" for the items of a list). For the hint on a key written
 * at the wrong level.
 */
export function keyPlaces(schema: object): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (s: unknown, at: string, depth: number) => {
    if (!s || typeof s !== 'object' || depth > 8) return;
    const o = s as { properties?: Record<string, unknown>; items?: unknown; additionalProperties?: unknown };
    for (const [k, v] of Object.entries(o.properties ?? {})) {
      out.set(k, [...(out.get(k) ?? []), at]);
      walk(v, at ? `${at}.${k}` : k, depth + 1);
    }
    if (o.items) walk(o.items, `${at}[]`, depth + 1);
    if (o.additionalProperties && typeof o.additionalProperties === 'object') walk(o.additionalProperties, `${at}.*`, depth + 1);
  };
  walk(schema, '', 0);
  return out;
}

/**
 * The warning for an unknown key `key` next to the keys `known`: why it is ignored and what was
 * probably meant: a key of that exact name elsewhere (written at the wrong level), else the
 * closest sibling's name.
 */
function unknownKeyMessage(key: string, known: readonly string[], places?: ReadonlyMap<string, readonly string[]>): string {
  const u = UPSTREAM_NAMES[key.toLowerCase()];
  if (u !== undefined) {
    if (known.includes(u.now)) return `unknown key, ignored: ${u.note}`;
    const where = places?.get(u.now);
    if (where && where.length > 0) return `unknown key, ignored: ${u.note} (${u.now} belongs ${where.map((p) => (p === '' ? 'at the top level' : `under ${p}`)).join(' or ')})`;
  }
  const elsewhere = places?.get(key);
  if (elsewhere && elsewhere.length > 0) {
    const where = elsewhere.map((p) => (p === '' ? 'at the top level' : `under ${p}`)).join(' or ');
    return `unknown key here, ignored (${key} belongs ${where})`;
  }
  const hint = closestKey(key, known);
  return hint ? `unknown key, ignored (did you mean ${hint}?)` : 'unknown key, ignored';
}

/**
 * YAML 1.1 boolean words as gopkg.in/yaml.v2 (etherguard-go's YAML library) resolves plain scalars
 * (its resolve.go table); YAML 1.2, which we parse, reads them as strings.
 */
const YAML11_BOOLS: Record<string, boolean> = Object.fromEntries([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'].map((w) => [w, true]),
  ...['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'].map((w) => [w, false]),
]);

export interface Leniency {
  /** Warnings for what was changed: unknown keys dropped, YAML 1.1 booleans read as booleans. */
  warnings: RawProblem[];
  /** True when `root` was changed, so it must be validated again. */
  changed: boolean;
  /** Unknown keys by the path of the mapping they were in ("" = top level), for hints on a missing required key. */
  unknownIn: Map<string, string[]>;
}

/**
 * Applies what etherguard-go's non-strict yaml.v2 loading accepts to `root`, in place, from ajv's
 * `errors` for it (`places`: keyPlaces of the schema, for hints on keys at the wrong level): an unknown key (additionalProperties) is deleted, and a plain-scalar YAML 1.1
 * boolean word where a boolean is expected becomes that boolean; each gets a warning. `isPlain`
 * tells whether the value at a path was written unquoted. Callers validate `root` again when
 * `changed`, so defaults and the other rules then see the cleaned data.
 */
export function applyLeniency(errors: readonly ErrorObject[], root: unknown, isPlain: (segs: readonly Segment[]) => boolean, places?: ReadonlyMap<string, readonly string[]>): Leniency {
  const out: Leniency = { warnings: [], changed: false, unknownIn: new Map() };
  for (const e of errors) {
    if (e.propertyName !== undefined) continue;
    const segs = pointerToSegs(e.instancePath, root);
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties' && e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data)) {
      const key = String(p.additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      out.warnings.push({ segs: [...segs, key], message: unknownKeyMessage(key, known, places) });
      delete (e.data as Record<string, unknown>)[key];
      const at = formatPath(segs);
      out.unknownIn.set(at, [...(out.unknownIn.get(at) ?? []), key]);
      out.changed = true;
    } else if (e.keyword === 'type' && p.type === 'boolean' && typeof e.data === 'string' && Object.hasOwn(YAML11_BOOLS, e.data) && segs.length > 0 && isPlain(segs)) {
      const v = YAML11_BOOLS[e.data]!;
      let parent: unknown = root;
      for (const s of segs.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[s];
      (parent as Record<string | number, unknown>)[segs[segs.length - 1]!] = v;
      out.warnings.push({ segs, message: `${JSON.stringify(e.data)} is a YAML 1.1 boolean (etherguard-go's YAML library reads it as ${v}; YAML 1.2 as a string): loaded as ${v}; write ${v}` });
      out.changed = true;
    }
  }
  return out;
}

/**
 * ajv errors → problems naming the key path. `unknownIn` (from applyLeniency) lets a missing
 * required key name the unknown key next to it that looks like its misspelling.
 */
export function translate(errors: readonly ErrorObject[], root: unknown, unknownIn: ReadonlyMap<string, readonly string[]> = new Map()): RawProblem[] {
  const out: RawProblem[] = [];
  for (const e of errors) {
    // propertyNames failures come twice: the inner keyword (tagged with propertyName) and the
    // propertyNames summary; keep only the summary.
    if (e.propertyName !== undefined) continue;
    const segs = pointerToSegs(e.instancePath, root);
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(p.additionalProperty);
        const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        const hint = closestKey(key, known);
        out.push({ segs: [...segs, key], message: hint ? `unknown key (did you mean ${hint}?)` : 'unknown key' });
        break;
      }
      case 'required': {
        const missing = String(p.missingProperty);
        const here = unknownIn.get(formatPath(segs)) ?? [];
        const older = olderNameOf(missing, here);
        const typo = here.find((u) => closestKey(u, [missing]) !== undefined);
        if (older !== undefined) out.push({ segs: [...segs, missing], message: `is required but missing (${older.written}, an unknown key here, is upstream's older name of it: rename it to ${missing})`, at: [...segs, older.written] });
        else if (typo === undefined) out.push({ segs: [...segs, missing], message: 'is required but missing' });
        else out.push({ segs: [...segs, missing], message: `is required but missing (${typo}, an unknown key here, looks like a misspelling of it)`, at: [...segs, typo] });
        break;
      }
      case 'type': {
        const t = String(p.type).split(',').map((x) => ARTICLE[x] ?? x).join(' or ');
        out.push({ segs, message: `must be ${t}, got ${describe(e.data)}` });
        break;
      }
      case 'minimum':
        out.push({ segs, message: `must be at least ${String(p.limit)}, got ${String(e.data)}${why(e)}` });
        break;
      case 'maximum':
        out.push({ segs, message: `must be at most ${String(p.limit)}, got ${String(e.data)}${why(e)}` });
        break;
      case 'exclusiveMinimum':
        out.push({ segs, message: `must be greater than ${String(p.limit)}, got ${String(e.data)}${why(e)}` });
        break;
      case 'enum': {
        const allowed = (p.allowedValues as unknown[]).filter((v) => v !== '').map((v) => JSON.stringify(v)).join(', ');
        out.push({ segs, message: `must be one of ${allowed}; got ${JSON.stringify(e.data)}` });
        break;
      }
      case 'minLength':
        out.push({ segs, message: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long` });
        break;
      case 'maxLength':
        out.push({ segs, message: `must be at most ${String(p.limit)} characters long, got ${String(e.data).length}` });
        break;
      case 'pattern': {
        // A pattern is unreadable as a rule: schemas that use one say in words what it means.
        const w = (e.parentSchema as Record<string, unknown> | undefined)?.[WHY];
        out.push({ segs, message: typeof w === 'string' ? `must be ${w}, got ${JSON.stringify(e.data)}` : (e.message ?? 'fails the pattern rule') });
        break;
      }
      case 'propertyNames':
        out.push({ segs: [...segs, String(p.propertyName)], message: 'key must be a NodeID (a decimal integer)' });
        break;
      default:
        out.push({ segs, message: e.message ?? `fails the ${e.keyword} rule` });
    }
  }
  return out;
}
