export * from './reference.js';
export * from './score.js';
export * from './tasks.js';
