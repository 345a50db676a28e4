// Moved to ts/shared/log.ts (edge and supernode share it); this path stays for code that still
// imports it from here.
export * from '../shared/log.js';
