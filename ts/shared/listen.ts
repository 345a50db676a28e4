// Listen addresses ("port", ":port", "host:port", "[v6]:port"), apart from ts/shared/http.ts so
// that checking one (an edge's -metrics flag) does not load fastify.
export interface Listen {
  /** undefined = every address */
  host?: string;
  port: number;
}

/** "3000", ":3000" (upstream's forms) or "host:3000" / "[v6]:3000" (ours). */
export function parseListen(v: string): Listen {
  const bare = /^:?(\d{1,5})$/.exec(v);
  if (bare) return { port: Number(bare[1]) };
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v) ?? /^([^:]*):(\d{1,5})$/.exec(v);
  if (!m) throw new Error(`listen address ${JSON.stringify(v)} is not "port", ":port" or "host:port"`);
  return { host: m[1] || undefined, port: Number(m[2]) };
}

export const sameListen = (a: string, b: string): boolean => {
  const x = parseListen(a);
  const y = parseListen(b);
  return x.port === y.port && (x.host ?? '') === (y.host ?? '');
};
