// File paths in the supernode config (EdgeTemplate, HttpTLS.CertFile/KeyFile): a relative path
// means relative to the directory of the config file, as gencfg resolves the paths in its input
// file. Upstream opens them relative to the process's current directory, which under systemd
// (no WorkingDirectory) is "/", so a config that worked from a shell failed as a service; a file
// found only relative to the current directory is still used, with a warning naming it.
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { HttpTLS, SuperConfig } from '../config/index.js';

/** Where a path-valued key points: the path to open, and a warning when that was not the config file's directory. */
export interface ResolvedPath {
  /** Absolute path to open. */
  readonly path: string;
  /** How `path` was found, for messages: "absolute", "relative to the config file's directory", ... */
  readonly how: string;
  /** Set when the file was found only relative to the current directory (upstream's reading). */
  readonly warning?: string;
}

/**
 * Resolves config key `key` (e.g. "EdgeTemplate", "HttpTLS.CertFile") holding `value` (not "")
 * for the config file `configPath` (undefined when embedded without a file: then relative means
 * the current directory, as before). A relative value is looked up beside the config file; if it
 * is not there but exists relative to the current directory, that one is used and `warning` says
 * so. If neither exists, the config file's directory is the answer (the caller reports it).
 * `exists` is the file test (seam for tests).
 */
export function resolveConfigPath(key: string, value: string, configPath: string | undefined, exists: (p: string) => boolean = existsSync): ResolvedPath {
  if (isAbsolute(value)) return { path: value, how: 'absolute' };
  if (configPath === undefined) return { path: resolve(value), how: 'relative to the current directory (no config file)' };
  const beside = resolve(dirname(configPath), value);
  if (exists(beside)) return { path: beside, how: "relative to the config file's directory" };
  const cwd = resolve(value);
  if (cwd !== beside && exists(cwd)) {
    return {
      path: cwd,
      how: 'relative to the current directory',
      warning: `${key} ${value} is not in the config file's directory (${beside}); using ${cwd}, relative to the current directory ${process.cwd()} (as upstream reads it). Move it beside the config file or give an absolute path: a service's current directory is usually /`,
    };
  }
  return { path: beside, how: "relative to the config file's directory" };
}

/** Why the file cannot be read, or null. */
function unreadable(path: string): string | null {
  try {
    accessSync(path, constants.R_OK);
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return err.code ?? err.message;
  }
}

/** The supernode's path-valued keys, resolved once at start (see resolveConfigPath). */
export interface SuperPaths {
  /** The HttpTLS to serve with, its files resolved (undefined: plain HTTP). */
  readonly httpTLS: HttpTLS | undefined;
  /** Lines to log at start: files found only relative to the current directory, an unreadable EdgeTemplate. */
  readonly warnings: string[];
}

/**
 * Resolves HttpTLS.CertFile/KeyFile and checks EdgeTemplate at start. An EdgeTemplate that
 * cannot be read only warns (peer/add answers 500 naming the same path until it can be read, so
 * it may be created after the start); unreadable TLS files are left for the HTTPS server to
 * refuse, naming the resolved path.
 */
export function resolveSuperPaths(cfg: Pick<SuperConfig, 'EdgeTemplate' | 'HttpTLS'>, configPath: string | undefined): SuperPaths {
  const warnings: string[] = [];
  if (cfg.EdgeTemplate !== '') {
    const r = resolveConfigPath('EdgeTemplate', cfg.EdgeTemplate, configPath);
    if (r.warning) warnings.push(r.warning);
    const why = unreadable(r.path);
    if (why !== null) warnings.push(`EdgeTemplate ${cfg.EdgeTemplate} cannot be read at ${r.path} (${r.how}): ${why}; peer/add will answer 500 until it can`);
  }
  let httpTLS: HttpTLS | undefined;
  if (cfg.HttpTLS) {
    const cert = resolveConfigPath('HttpTLS.CertFile', cfg.HttpTLS.CertFile, configPath);
    const key = resolveConfigPath('HttpTLS.KeyFile', cfg.HttpTLS.KeyFile, configPath);
    for (const r of [cert, key]) if (r.warning) warnings.push(r.warning);
    httpTLS = { CertFile: cert.path, KeyFile: key.path };
  }
  return { httpTLS, warnings };
}
