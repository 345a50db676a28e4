// Logging with upstream's switches (LogLevel + LogTransit/LogNormal/LogControl/LogInternal) and
// an optional JSON-lines format (-json). Drops are never silent: each one is counted per reason;
// at debug level each is logged, at error level a summary line is written at most every 10 s.
export type LevelName = 'verbose' | 'debug' | 'error' | 'silent';

export interface LogSwitches {
  LogLevel: string;
  LogTransit: boolean;
  LogNormal: boolean;
  LogControl: boolean;
  LogInternal: boolean;
  /** NTP syncs (ts/ntp/sync.ts); absent = off. */
  LogNTP?: boolean;
}

export type Category = 'transit' | 'normal' | 'control' | 'internal' | 'ntp';

export interface Sink {
  write(line: string): void;
}

const stderrSink: Sink = { write: (l) => process.stderr.write(l) };

export class Logger {
  readonly debugOn: boolean;
  readonly errorOn: boolean;
  private readonly drops = new Map<string, number>();
  private dropsSinceSummary = 0;
  private lastSummary = -Infinity;

  constructor(
    private readonly prefix: string,
    private readonly sw: LogSwitches,
    private readonly json = false,
    private readonly sink: Sink = stderrSink,
    private readonly now: () => number = Date.now,
    /** Monotonic ms for the drop-summary spacing: a wall clock stepped back 1 h silenced it for an hour. */
    private readonly mono: () => number = () => performance.now(),
  ) {
    // Upstream treats any unknown level as "error"; so do we.
    const lvl = sw.LogLevel === 'verbose' || sw.LogLevel === 'debug' ? 'debug' : sw.LogLevel === 'silent' ? 'silent' : 'error';
    this.debugOn = lvl === 'debug';
    this.errorOn = lvl !== 'silent';
  }

  private emit(level: string, msg: string, fields?: Record<string, unknown>): void {
    if (this.json) {
      this.sink.write(JSON.stringify({ t: new Date(this.now()).toISOString(), name: this.prefix, level, msg, ...fields }) + '\n');
    } else {
      // An undefined field is left out, as JSON.stringify leaves it out of the JSON line.
      const f = fields ? ' ' + Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') : '';
      this.sink.write(`${new Date(this.now()).toISOString()} ${this.prefix}: ${level.toUpperCase()}: ${msg}${f}\n`);
    }
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    if (this.errorOn) this.emit('error', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    if (this.errorOn) this.emit('info', msg, fields);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    if (this.debugOn) this.emit('debug', msg, fields);
  }

  /** Category switches work at any level but silent, as upstream's flags do. */
  enabled(c: Category): boolean {
    if (!this.errorOn) return false;
    switch (c) {
      case 'transit':
        return this.sw.LogTransit;
      case 'normal':
        return this.sw.LogNormal;
      case 'control':
        return this.sw.LogControl;
      case 'internal':
        return this.sw.LogInternal;
      case 'ntp':
        return this.sw.LogNTP ?? false;
    }
  }
  cat(c: Category, msg: string, fields?: Record<string, unknown>): void {
    if (this.enabled(c)) this.emit(c, msg, fields);
  }

  drop(reason: string, fields?: Record<string, unknown>): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    this.dropsSinceSummary++;
    if (this.debugOn) {
      this.emit('drop', reason, fields);
      return;
    }
    const t = this.mono();
    if (this.errorOn && t - this.lastSummary >= 10_000) {
      this.lastSummary = t;
      this.emit('drop', `dropped ${this.dropsSinceSummary} packet(s) since last report; latest: ${reason}`, {
        ...fields,
        totals: Object.fromEntries(this.drops),
      });
      this.dropsSinceSummary = 0;
    }
  }

  dropCounts(): Record<string, number> {
    return Object.fromEntries(this.drops);
  }
}
