// Moved to ts/shared/postscript.ts (edge and supernode share it); this path stays for code that
// still imports it from here.
export * from '../shared/postscript.js';
