// `-mode gencfg -cfgmode super|static|p2p -config gen.yaml`: generates every node's config of a
// network (docs/gencfg.md). All input problems are listed at once and nothing is written while
// any remains; the files are written all or nothing (write.ts).
import { readFileSync } from 'node:fs';
import { CliArgs } from '../cli/args.js';
import { CliError } from '../cli/errors.js';
import { formatWarning, type Problem } from '../config/index.js';
import { exampleInput } from './example.js';
import { generateNm, generateSuper, type Generated } from './generate.js';
import { endInput, GencfgInputError, readNmInput, readSuperInput, type CfgMode } from './input.js';
import { writeAll, WriteRefused } from './write.js';

const CFGMODES: readonly CfgMode[] = ['super', 'static', 'p2p'];

export interface GencfgResult extends Generated {
  paths: string[];
  warnings: string[];
}

/**
 * Generates and writes the configs described by input file `file` for `cfgmode`.
 * Throws GencfgInputError (every problem, nothing written) or WriteRefused (files exist).
 */
export async function runGencfg(cfgmode: CfgMode, file: string, text: string, onWarning?: (line: string) => void): Promise<GencfgResult> {
  const warnings: string[] = [];
  const warn = (p: Problem) => {
    const line = formatWarning(file, p);
    warnings.push(line);
    onWarning?.(line);
  };
  let gen: Generated;
  let outDir: string;
  let overwrite: boolean;
  if (cfgmode === 'super') {
    const { input, reader } = readSuperInput(text, file);
    gen = generateSuper(reader, input);
    endInput(reader, warn);
    ({ outDir, overwrite } = input);
  } else {
    const { input, reader } = readNmInput(text, file);
    gen = generateNm(reader, input, cfgmode);
    endInput(reader, warn);
    ({ outDir, overwrite } = input);
  }
  const w = await writeAll(outDir, gen.files, overwrite);
  for (const x of w.warnings) onWarning?.(`warning: ${x}`);
  return { ...gen, paths: w.paths, warnings: [...warnings, ...w.warnings] };
}

export async function gencfgMode(a: CliArgs): Promise<number> {
  const m = a.cfgmode;
  if (m === undefined || !(CFGMODES as readonly string[]).includes(m)) {
    throw new CliError(`gencfg needs -cfgmode super, static or p2p${m === undefined ? '' : ` (not ${JSON.stringify(m)})`}`, 2);
  }
  const cfgmode = m as CfgMode;
  if (a.example) {
    process.stdout.write(exampleInput(cfgmode));
    return 0;
  }
  if (!a.config) throw new CliError(`gencfg needs -config GEN_YAML (or -example to print a commented input for -cfgmode ${cfgmode})`, 2);
  let text: string;
  try {
    text = readFileSync(a.config, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${a.config}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const r = await runGencfg(cfgmode, a.config, text, (l) => process.stderr.write(l + '\n'));
    if (r.report) process.stdout.write(r.report.endsWith('\n') ? r.report : r.report + '\n');
    for (const p of r.paths) process.stdout.write(p + '\n');
    return 0;
  } catch (e) {
    if (e instanceof GencfgInputError) throw new CliError(`invalid gencfg input (nothing written):\n${e.message}`);
    if (e instanceof WriteRefused) throw new CliError(e.message);
    throw e;
  }
}
