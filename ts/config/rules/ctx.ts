// Shared machinery for the cross-field rules that run after ajv. Rules run even when ajv found
// errors (so the user sees everything at once), but skip any value ajv already rejected, which
// would otherwise produce confusing follow-on errors.
import { keyProblem, publicKeyProblem } from '../keys.js';
import { formatPath, type Segment } from '../problems.js';
import type { RawProblem } from '../ajv.js';
import { parseIPv4, parseIPv6 } from '../ip.js';
import { NODE_ID_MAX } from '../addr.js';
import { parseEndpoint, type EndpointHostKind } from '../endpoint.js';

export class Ctx {
  readonly problems: RawProblem[] = [];
  /** Findings that do not stop the load: values upstream would also leave unused (docs/config.md). */
  readonly warnings: RawProblem[] = [];
  private readonly bad: string[];
  private unusedBecause: string | undefined;

  constructor(ajvProblems: readonly RawProblem[]) {
    // Unknown keys do not make the values next to them untrustworthy.
    this.bad = ajvProblems.filter((p) => !p.message.startsWith('unknown key')).map((p) => formatPath(p.segs));
  }

  /** An error, or a warning while inside `unused()`. */
  add(segs: Segment[], message: string): void {
    if (this.unusedBecause !== undefined) this.warnings.push({ segs, message: `${message} (ignored: ${this.unusedBecause})` });
    else this.problems.push({ segs, message });
  }

  warn(segs: Segment[], message: string): void {
    this.warnings.push({ segs, message });
  }

  /**
   * Runs checks on values this config never uses (`reason` says why, e.g. "UseSuperNode is
   * false"): what they find is reported as warnings, because etherguard-go loads and runs such a
   * config, so we must too.
   */
  unused(reason: string, checks: () => void): void {
    const outer = this.unusedBecause;
    this.unusedBecause = outer ?? reason;
    try {
      checks();
    } finally {
      this.unusedBecause = outer;
    }
  }

  /** True when no ajv error sits at any of these paths or above them. */
  ok(...paths: Segment[][]): boolean {
    return paths.every((segs) => {
      const p = formatPath(segs);
      return !this.bad.some((b) => b === '' || b === p || p.startsWith(b + '.') || p.startsWith(b + '['));
    });
  }

  /** Checks a key when it is present and well typed; `optional` lets "" mean "not set". */
  key(segs: Segment[], value: string, optional: boolean): boolean {
    if (!this.ok(segs)) return false;
    if (value === '') {
      if (!optional) this.add(segs, 'must not be empty (a base64 32-byte key)');
      return false;
    }
    let why = keyProblem(value);
    const last = segs[segs.length - 1];
    if (why === null && typeof last === 'string' && last.startsWith('PubKey')) why = publicKeyProblem(value);
    if (why !== null) this.add(segs, why);
    return why === null;
  }

  /** Table keys are NodeIDs; `wildcard` also allows 65535 (ManualLatency's "any node"). */
  nodeTableKeys(segs: Segment[], table: Record<string, Record<string, unknown>>, wildcard: boolean): void {
    if (!this.ok(segs)) return;
    const fine = (k: string) => Number(k) <= NODE_ID_MAX || (wildcard && Number(k) === 65535);
    const range = wildcard ? `0..${NODE_ID_MAX} or 65535 (any node)` : `0..${NODE_ID_MAX}`;
    for (const [src, row] of Object.entries(table)) {
      if (/^[0-9]+$/.test(src) && !fine(src)) this.add([...segs, src], `key ${src} is not a NodeID in ${range}`);
      if (row === null || typeof row !== 'object') continue;
      for (const dst of Object.keys(row)) {
        if (/^[0-9]+$/.test(dst) && !fine(dst)) this.add([...segs, src, dst], `key ${dst} is not a NodeID in ${range}`);
      }
    }
  }
}

export type HostKind = EndpointHostKind;

/**
 * Checks an endpoint (see ../endpoint.ts for the accepted forms); `listen` allows `:port` and
 * port 0. Returns the host kind so callers can check the address family, or undefined when the
 * value is empty, already refused by ajv, or refused here.
 */
export function checkEndpoint(ctx: Ctx, segs: Segment[], value: string, opts: { listen?: boolean } = {}): HostKind | undefined {
  if (!ctx.ok(segs) || value === '') return undefined;
  const r = parseEndpoint(value, opts);
  if (!r.ok) {
    ctx.add(segs, r.problem);
    return undefined;
  }
  return r.value.kind;
}

export function checkListenIPs(ctx: Ctx, af: { IPv4: boolean; IPv6: boolean; ListenIPv4: string; ListenIPv6: string }): void {
  const D = 'DisabledAf';
  if (ctx.ok([D, 'IPv4'], [D, 'IPv6']) && af.IPv4 && af.IPv6) ctx.add([D], 'IPv4 and IPv6 are both disabled, so no UDP socket could be opened');
  // Upstream binds all addresses when the listen address is not one of its family (conn's
  // NewDefaultBind), and runs; so the config loads, says so, and binds all addresses too.
  if (ctx.ok([D, 'ListenIPv4']) && af.ListenIPv4 !== '' && parseIPv4(af.ListenIPv4) === null) {
    ctx.warn([D, 'ListenIPv4'], `"${af.ListenIPv4}" is not an IPv4 address, so all IPv4 addresses are bound (as upstream does)`);
    af.ListenIPv4 = '';
  }
  if (ctx.ok([D, 'ListenIPv6']) && af.ListenIPv6 !== '' && parseIPv6(af.ListenIPv6) === null) {
    ctx.warn([D, 'ListenIPv6'], `"${af.ListenIPv6}" is not an IPv6 address, so all IPv6 addresses are bound (as upstream does)`);
    af.ListenIPv6 = '';
  }
}

/** Reports values that occur more than once, naming every repeat. */
export function checkUnique<T>(ctx: Ctx, items: readonly T[], field: (string & keyof T), base: Segment[], what: string): void {
  const seen = new Map<unknown, number>();
  items.forEach((item, i) => {
    const segs = [...base, i, field];
    if (!ctx.ok(segs)) return;
    const v = item[field];
    if (v === '') return;
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else ctx.add(segs, `duplicate ${what} ${JSON.stringify(v)} (also used by ${formatPath([...base, first])})`);
  });
}
