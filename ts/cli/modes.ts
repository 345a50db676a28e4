// Registers each implemented mode with the CLI. Importing a mode's module is what enables it.
export {};
