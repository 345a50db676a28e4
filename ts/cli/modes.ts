// Registers each implemented mode with the CLI. Importing a mode's module is what enables it.
import { modes } from './main.js';
import { solveMode } from '../solve/mode.js';
import { edgeMode } from '../edge/mode.js';
import { superMode } from '../super/mode.js';
import { gencfgMode } from '../gencfg/mode.js';
import { statusMode } from '../status/mode.js';

modes.solve = solveMode;
modes.edge = edgeMode;
modes.super = superMode;
modes.gencfg = gencfgMode;
modes.status = statusMode;
