export * from './errors.js';
export * from './grid.js';
export * from './haystack.js';
export * from './needles.js';
export * from './run.js';
export * from './score.js';
