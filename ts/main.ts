#!/usr/bin/env node
// The command line's entry point, as tsc emits it: it loads the program module by module. The
// build (scripts/bundle.mjs) replaces dist/main.js with one that loads the bundled program
// (dist/bundle/), which starts a process in about two thirds of the CPU time.
import './cli/entry.js';
