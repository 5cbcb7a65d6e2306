// Public API of tsbolt. Each layer re-exports its own entry points here.
export * from './bolt/index.js';
export * from './metadata/index.js';
export * from './content/index.js';
