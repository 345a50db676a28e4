import type { Problem } from '../config/index.js';

/**
 * A failure the user caused or can fix: printed without a stack trace, exits with exitCode.
 * `config`: the problems of a config file behind it, so `-json` can print them as JSON lines
 * (cliErrorJson) instead of the text of `message`.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly config?: { file: string; errors: readonly Problem[]; warnings: readonly Problem[] },
  ) {
    super(message);
  }
}

/**
 * One config problem (or a plain message) as the JSON log line `-json` prints (the Logger's
 * shape: t, name, level, msg; plus file, key, line and col where known).
 */
export function problemJson(level: 'error' | 'warning', msg: string, file?: string, p?: Problem): string {
  const where = p ? { key: p.path || undefined, line: p.line, col: p.col } : {};
  return JSON.stringify({ t: new Date().toISOString(), name: 'etherguard', level, msg, ...(file ? { file } : {}), ...where }) + '\n';
}

/** The JSON lines for a CliError under `-json`: each config error, then each warning; else the message. */
export function cliErrorJson(e: CliError): string {
  if (!e.config) return problemJson('error', e.message);
  const { file, errors, warnings } = e.config;
  return [...errors.map((p) => problemJson('error', p.message, file, p)), ...warnings.map((p) => problemJson('warning', p.message, file, p))].join('');
}
