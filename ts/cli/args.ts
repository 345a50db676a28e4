// Flag parsing compatible with etherguard-go's Go `flag` usage: single-dash long flags
// (`-config x`, `-config=x`), double dash accepted too, plus the positional mode form
// (`main.js edge -config x.yaml`). yargs-parser does the tokenising; we validate.
import parse from 'yargs-parser';

export const MODES = ['super', 'edge', 'solve', 'gencfg', 'status'] as const;
export type Mode = (typeof MODES)[number];

export interface CliArgs {
  mode: Mode | undefined;
  config: string | undefined;
  example: boolean;
  cfgmode: string | undefined;
  bind: 'linux' | 'std';
  noUapi: boolean;
  version: boolean;
  help: boolean;
  json: boolean;
  /** `-metrics HOST:PORT`: serve Prometheus metrics there (edge, super; overrides MetricsListen). */
  metrics: string | undefined;
  /** status: the NodeName to show (positional, after the mode); undefined = every node. */
  node: string | undefined;
}

const BOOLEANS = ['example', 'no-uapi', 'version', 'help', 'h', 'json'] as const;
const STRINGS = ['config', 'mode', 'cfgmode', 'bind', 'pprof', 'metrics'] as const;

export class UsageError extends Error {}

export function parseArgs(argv: string[]): CliArgs {
  // A lone "-" (stdin) after a string flag is a value, not a flag.
  argv = argv.map((a, i) => (a === '-' && i > 0 && STRINGS.some((k) => argv[i - 1] === `-${k}` || argv[i - 1] === `--${k}`) ? '\u0000-' : a));
  const p = parse(argv, {
    boolean: [...BOOLEANS],
    string: [...STRINGS],
    configuration: {
      'short-option-groups': false,
      'camel-case-expansion': false,
      'boolean-negation': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': false,
    },
  });
  const known = new Set<string>([...BOOLEANS, ...STRINGS, '_', '--']);
  for (const k of Object.keys(p)) {
    if (!known.has(k)) throw new UsageError(`unknown flag -${k}`);
  }
  for (const k of STRINGS) {
    if (k in p && (p[k] === '' || p[k] === undefined) && argv.some((a) => a === `-${k}` || a === `--${k}`)) {
      throw new UsageError(`flag -${k} needs a value`);
    }
  }
  for (const k of STRINGS) if (p[k] === '\u0000-') p[k] = '-';
  const positional = (p._ as (string | number)[]).map(String);
  let mode: string | undefined = p.mode as string | undefined;
  // `status` takes one NodeName: `-mode status NAME` or `status NAME`.
  let node: string | undefined;
  if (mode === 'status' && positional.length > 0 && positional[0] !== 'status') node = positional.shift();
  if (positional.length > 0) {
    if (mode !== undefined && mode !== positional[0]) {
      throw new UsageError(`mode given twice: -mode ${mode} and ${positional[0]}`);
    }
    mode = positional[0];
    if (mode === 'status' && positional.length === 2 && node === undefined) node = positional.pop();
    if (positional.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positional[1])}`);
  }
  if (mode !== undefined && !(MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`unknown mode ${JSON.stringify(mode)} (expected one of ${MODES.join(', ')})`);
  }
  const bind = (p.bind as string | undefined) ?? 'linux';
  if (bind !== 'linux' && bind !== 'std') throw new UsageError(`-bind must be linux or std, not ${JSON.stringify(bind)}`);
  return {
    mode: mode as Mode | undefined,
    config: p.config as string | undefined,
    example: Boolean(p.example),
    cfgmode: p.cfgmode as string | undefined,
    bind,
    noUapi: Boolean(p['no-uapi']),
    version: Boolean(p.version),
    help: Boolean(p.help) || Boolean(p.h),
    json: Boolean(p.json),
    metrics: p.metrics as string | undefined,
    node,
  };
}

export const USAGE = `Usage: etherguard -mode <super|edge|solve|gencfg> [flags]
       etherguard <super|edge|solve|gencfg> [flags]
       etherguard -mode status [-json] [NodeName]

Etherguard: a full-mesh Layer-2 VPN that routes each direction on measured one-way latency.

Modes:
  edge     run an edge node            (-config edge.yaml; -example prints an example config)
  super    run the supernode           (-config super.yaml; -example prints an example config)
  solve    best routes for a latency matrix (-config matrix.txt; -example prints the 6-node matrix)
  gencfg   generate a network's configs (-cfgmode super|static|p2p -config gen.yaml; -example prints a commented input)
  status   the nodes running on this machine, their peers and next hops ([-json] [NodeName]; via EG_UAPI_DIR)

Flags (one or two dashes; -flag value or -flag=value):
  -config PATH    config file for the mode
  -mode MODE      the mode, as above
  -example        print an example config (or matrix) for the mode and exit
  -cfgmode MODE   for gencfg: super, static or p2p
  -bind KIND      accepted for compatibility (linux or std); both use the same sockets here
  -no-uapi        do not open the wg-compatible UAPI socket (EG_UAPI_DIR, default /var/run/wireguard)
  -json           solve, status: JSON output; edge/super: logs as JSON lines
  -metrics ADDR   edge/super: serve Prometheus metrics at http://ADDR/metrics (HOST:PORT, [v6]:PORT or PORT)
  -version        print versions (program, WASM core, native addon) and exit
  -help           print this help and exit

Exit codes: 0 success, 1 runtime or config error, 2 usage error; an edge removed or stopped by its
supernode exits with the code the supernode sent.
`;
