// Pieces shared by the edge and supernode schemas. Each interface is the shape AFTER defaults are
// applied (every key present); `JSONSchemaType<T>` makes a schema that disagrees with its
// interface a compile error.
import type { JSONSchemaType } from 'ajv';
import { NODE_ID_MAX } from '../addr.js';

/**
 * Annotation read by the error translator: why a limit exists, appended to range errors so the
 * user learns what the refused value would have done. A string applies to every bound; an
 * object holds one note per ajv keyword (`minimum`, `maximum`, `exclusiveMinimum`), so each
 * refused value gets the note about its own bound. For `pattern`, a string saying the rule in words.
 */
export const WHY = 'egWhy';

export type NodeIdTable = Record<string, Record<string, number>>;

export const nodeId = (): JSONSchemaType<number> => ({ type: 'integer', minimum: 0, maximum: NODE_ID_MAX });

/** Seconds or milliseconds; `positive` refuses 0 (with the reason) where upstream misbehaves on it. */
export function num(def: number, opts: { positive?: string; min?: number; max?: number } = {}): JSONSchemaType<number> {
  const s: JSONSchemaType<number> = { type: 'number', default: def };
  if (opts.positive !== undefined) {
    s.exclusiveMinimum = 0;
    s[WHY] = { exclusiveMinimum: opts.positive };
  } else {
    s.minimum = opts.min ?? 0;
  }
  if (opts.max !== undefined) s.maximum = opts.max;
  return s;
}

/** An integer min..max; `why` says what a value below `min` / above `max` would do (range errors quote the range and that note). */
export function int(def: number, min: number, max: number, why?: { below?: string; above?: string }): JSONSchemaType<number> {
  const s: JSONSchemaType<number> = { type: 'integer', default: def, minimum: min, maximum: max };
  if (why !== undefined) s[WHY] = { ...(why.below !== undefined && { minimum: why.below }), ...(why.above !== undefined && { maximum: why.above }) };
  return s;
}

export const str = (def = ''): JSONSchemaType<string> => ({ type: 'string', default: def });

/**
 * Our key MetricsListen (edge and super): where to serve Prometheus metrics, "" = nowhere. The
 * forms of the supernode's listen keys: "PORT", ":PORT", "HOST:PORT", "[IPv6]:PORT" (docs/observability.md).
 */
export const METRICS_LISTEN: JSONSchemaType<string> = {
  type: 'string',
  default: '',
  pattern: '^$|^:?[0-9]{1,5}$|^[^:\\[\\]]*:[0-9]{1,5}$|^\\[[^\\]]+\\]:[0-9]{1,5}$',
  [WHY]: 'PORT, :PORT, HOST:PORT or [IPv6]:PORT ("" = no metrics)',
};
export const bool = (def: boolean): JSONSchemaType<boolean> => ({ type: 'boolean', default: def });

// Keys are checked as decimal text here and as NodeIDs in code, where the range error can name
// the key; YAML integer keys arrive as strings after toJS().
export function nodeTable<V>(value: JSONSchemaType<V>): JSONSchemaType<Record<string, Record<string, V>>> {
  return {
    type: 'object',
    required: [],
    default: {},
    propertyNames: { pattern: '^[0-9]+$' },
    additionalProperties: {
      type: 'object',
      required: [],
      propertyNames: { pattern: '^[0-9]+$' },
      additionalProperties: value,
    },
  } as JSONSchemaType<Record<string, Record<string, V>>>;
}

export const nextHopTable = (): JSONSchemaType<NodeIdTable> => nodeTable<number>(nodeId());

export type LogLevelName = 'verbose' | 'debug' | 'error' | 'silent';
export const LOG_LEVELS: readonly LogLevelName[] = ['verbose', 'debug', 'error', 'silent'];

export interface LoggerInfo {
  LogLevel: LogLevelName;
  LogTransit: boolean;
  LogNormal: boolean;
  DumpNormal: boolean;
  LogControl: boolean;
  LogInternal: boolean;
  LogNTP: boolean;
}

export const loggerInfoSchema: JSONSchemaType<LoggerInfo> = {
  type: 'object',
  default: {},
  additionalProperties: false,
  required: [],
  properties: {
    LogLevel: { type: 'string', enum: LOG_LEVELS, default: 'error' },
    LogTransit: bool(false),
    LogNormal: bool(false),
    DumpNormal: bool(false),
    LogControl: bool(false),
    LogInternal: bool(false),
    LogNTP: bool(false),
  },
};

export interface DisabledAf {
  /** true = do not use IPv4 at all */
  IPv4: boolean;
  IPv6: boolean;
  /** bind address; "" = any */
  ListenIPv4: string;
  ListenIPv6: string;
}

export const disabledAfSchema: JSONSchemaType<DisabledAf> = {
  type: 'object',
  default: {},
  additionalProperties: false,
  required: [],
  properties: { IPv4: bool(false), IPv6: bool(false), ListenIPv4: str(), ListenIPv6: str() },
};

export interface GraphRecalculateSetting {
  StaticMode: boolean;
  /** ms; key 65535 is a wildcard */
  ManualLatency: Record<string, Record<string, number>>;
  /** ms */
  JitterTolerance: number;
  JitterToleranceMultiplier: number;
  /** s */
  TimeoutCheckInterval: number;
  /** s */
  RecalculateCoolDown: number;
}

/** Edges (P2P) and the supernode use different example hysteresis values. */
export function graphSchema(jitter: number, multiplier: number, timeoutWhy: string): JSONSchemaType<GraphRecalculateSetting> {
  return {
    type: 'object',
    default: {},
    additionalProperties: false,
    required: [],
    properties: {
      StaticMode: bool(false),
      ManualLatency: nodeTable<number>({ type: 'number' }),
      JitterTolerance: num(jitter),
      JitterToleranceMultiplier: num(multiplier),
      TimeoutCheckInterval: num(5, { positive: timeoutWhy }),
      RecalculateCoolDown: num(5),
    },
  };
}
