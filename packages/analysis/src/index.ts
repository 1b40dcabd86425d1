export * from './column-importance.js';
export * from './finding.js';
export * from './head-detector.js';
export * from './probes.js';
export * from './sinks.js';
