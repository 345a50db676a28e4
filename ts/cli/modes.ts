// Registers each implemented mode with the CLI. A mode's module is imported when that mode runs,
// not before: `-version`, `-help` and an edge do not pay for the supernode's HTTP server, the
// etcd client or the config schemas they never use (each process start is CPU that a machine
// starting many edges at once pays many times).
import { modes } from './main.js';
import type { CliArgs } from './args.js';

modes.solve = async (a: CliArgs) => (await import('../solve/mode.js')).solveMode(a);
modes.edge = async (a: CliArgs) => (await import('../edge/mode.js')).edgeMode(a);
modes.super = async (a: CliArgs) => (await import('../super/mode.js')).superMode(a);
modes.gencfg = async (a: CliArgs) => (await import('../gencfg/mode.js')).gencfgMode(a);
modes.status = async (a: CliArgs) => (await import('../status/mode.js')).statusMode(a);
