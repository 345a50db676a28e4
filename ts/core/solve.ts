// Typed access to the route engine's matrix functions (upstream's `solve` text format).
import { wasm } from './wasm.js';

export class MatrixError extends Error {}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    // The core throws a JS Error whose message already names line and column.
    throw new MatrixError(e instanceof Error ? e.message : String(e));
  }
}

export const exampleMatrix = (): string => wasm().exampleMatrix();
export const solveMatrixText = (text: string): string => wrap(() => wasm().solveMatrixText(text));
export const solveMatrixJson = (text: string): string => wrap(() => wasm().solveMatrixJson(text));
