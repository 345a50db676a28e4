// `-mode solve`: best routes for a latency matrix file, printed as upstream does (YAML tables,
// then every pair with its cost and path), or as JSON with -json.
import { readFileSync } from 'node:fs';
import { CliArgs } from '../cli/args.js';
import { CliError } from '../cli/errors.js';
import { exampleMatrix, MatrixError, solveMatrixJson, solveMatrixText } from '../core/solve.js';

export async function solveMode(a: CliArgs): Promise<number> {
  if (a.example) {
    process.stdout.write(exampleMatrix());
    return 0;
  }
  if (!a.config) throw new CliError('solve needs -config MATRIX_FILE (or -example to print the example matrix)', 2);
  let text: string;
  try {
    text = readFileSync(a.config === '-' ? 0 : a.config, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${a.config}: ${(e as Error).message}`);
  }
  try {
    process.stdout.write(a.json ? solveMatrixJson(text) + '\n' : solveMatrixText(text));
  } catch (e) {
    if (e instanceof MatrixError) throw new CliError(`${a.config}: ${e.message}`);
    throw e;
  }
  return 0;
}
