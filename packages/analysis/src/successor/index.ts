export * from './behaviour.js';
export { successorBehaviourReference } from './behaviour-reference.js';
export { type OvReference, ovCircuitReference } from './reference.js';
export * from './score.js';
export * from './tasks.js';
