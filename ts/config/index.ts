// Public API of the config module: load/parse edge and supernode YAML (validated, defaults
// applied), example configs, per-node address derivation and atomic rewrites.
import { readFileSync } from 'node:fs';
import { ConfigError } from './problems.js';
import type { EdgeConfig } from './schema/edge.js';
import type { SuperConfig } from './schema/super.js';
import { parseEdge, parseSuper, type Parsed } from './validate.js';

export { ConfigError, formatProblem, type Problem } from './problems.js';
export type { Parsed } from './validate.js';
export type {
  EdgeConfig, InterfaceConf, IType, L2HeaderMode, DynamicRouteInfo, SuperInfo, P2PInfo, NTPInfo, PeerInfo,
} from './schema/edge.js';
export type { SuperConfig, SuperPeerInfo, Passwords, HttpTLS } from './schema/super.js';
export type { DisabledAf, GraphRecalculateSetting, LoggerInfo, LogLevelName, NodeIdTable } from './schema/common.js';
export { edgeSchema, ITYPES } from './schema/edge.js';
export { superSchema } from './schema/super.js';
export { AddrError, NODE_ID_MAX, macForNode, ipv4ForNode, ipv6ForNode, ipv6LLForNode, type NodeAddr } from './addr.js';
export { generateKeyPair, generatePSK, publicKeyOf, keyProblem, type KeyPair } from './keys.js';
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

export function parseEdgeConfig(text: string, name: string): EdgeConfig {
  return parseEdge(text, name).config;
}

export function parseSuperConfig(text: string, name: string): SuperConfig {
  return parseSuper(text, name).config;
}

/** Throws ConfigError listing every problem, each prefixed with `path` (and line:column). */
export function loadEdgeConfig(path: string): EdgeConfig {
  return parseEdge(readText(path), path).config;
}

export function loadSuperConfig(path: string): SuperConfig {
  return parseSuper(readText(path), path).config;
}

/** Config plus its YAML Document, for code that rewrites the file (e.g. SaveNewPeers). */
export function loadEdgeConfigDocument(path: string): Parsed<EdgeConfig> {
  return parseEdge(readText(path), path);
}

export function loadSuperConfigDocument(path: string): Parsed<SuperConfig> {
  return parseSuper(readText(path), path);
}
