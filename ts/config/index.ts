// Public API of the config module: load/parse edge and supernode YAML (validated, defaults
// applied), example configs, per-node address derivation and atomic rewrites.
import { readFileSync } from 'node:fs';
import { ConfigError, formatWarning, type Problem } from './problems.js';
import type { EdgeConfig } from './schema/edge.js';
import type { SuperConfig } from './schema/super.js';
import { parseEdge, parseSuper, type Parsed } from './validate.js';

export { ConfigError, formatProblem, formatWarning, type Problem } from './problems.js';
export type { Parsed } from './validate.js';
export type {
  EdgeConfig, InterfaceConf, IType, L2HeaderMode, DynamicRouteInfo, SuperInfo, P2PInfo, NTPInfo, PeerInfo,
} from './schema/edge.js';
export type { SuperConfig, SuperPeerInfo, Passwords, HttpTLS, EtcdSetting } from './schema/super.js';
export type { DisabledAf, GraphRecalculateSetting, LoggerInfo, LogLevelName, NodeIdTable } from './schema/common.js';
export { edgeSchema, ITYPES } from './schema/edge.js';
export { superSchema } from './schema/super.js';
export { AddrError, NODE_ID_MAX, macForNode, ipv4ForNode, ipv6ForNode, ipv6LLForNode, type NodeAddr } from './addr.js';
export { generateKeyPair, generatePSK, publicKeyOf, keyProblem, cleanKey, type KeyPair } from './keys.js';
export { parseEndpoint, endpointProblem, formatParsedEndpoint, type ParsedEndpoint, type EndpointOptions, type EndpointResult } from './endpoint.js';
export { uapiNameProblem, ifNameProblem, envValueProblem, unixPathProblem } from './names.js';
export { exampleEdgeConfig, exampleSuperConfig } from './examples.js';
export { writeConfigAtomic } from './atomic.js';

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ConfigError(path, [{ path: '', message: `cannot read the file: ${err.code ?? err.message}` }]);
  }
}

/**
 * Receives each warning of a config that loads (values upstream would also leave unused, see
 * docs/config.md): the formatted line and the problem. The default prints the line to stderr.
 */
export type WarningSink = (line: string, p: Problem) => void;

const toStderr: WarningSink = (line) => process.stderr.write(line + '\n');

function report<T>(p: Parsed<T>, name: string, warn: WarningSink): Parsed<T> {
  for (const w of p.warnings) warn(formatWarning(name, w), w);
  return p;
}

export function parseEdgeConfig(text: string, name: string, warn: WarningSink = toStderr): EdgeConfig {
  return report(parseEdge(text, name), name, warn).config;
}

export function parseSuperConfig(text: string, name: string, warn: WarningSink = toStderr): SuperConfig {
  return report(parseSuper(text, name), name, warn).config;
}

/** Throws ConfigError listing every problem, each prefixed with `path` (and line:column); warnings go to `warn`. */
export function loadEdgeConfig(path: string, warn: WarningSink = toStderr): EdgeConfig {
  return report(parseEdge(readText(path), path), path, warn).config;
}

export function loadSuperConfig(path: string, warn: WarningSink = toStderr): SuperConfig {
  return report(parseSuper(readText(path), path), path, warn).config;
}

/** Config plus its YAML Document, for code that rewrites the file (e.g. SaveNewPeers); warnings are in `.warnings`, not printed. */
export function loadEdgeConfigDocument(path: string): Parsed<EdgeConfig> {
  return parseEdge(readText(path), path);
}

export function loadSuperConfigDocument(path: string): Parsed<SuperConfig> {
  return parseSuper(readText(path), path);
}
