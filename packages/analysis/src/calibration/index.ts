export * from './errors.js';
export * from './heads.js';
export * from './scoring.js';
export * from './search.js';
export * from './task-sets.js';
export * from './tasks.js';
