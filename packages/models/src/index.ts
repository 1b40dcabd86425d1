// Browser-safe entry of @headscope/models. Node-only pieces (NodeDirSource) are in ./node.ts.

export * from './engine/attention-store.js';
export * from './engine/decode.js';
export * from './engine/forward.js';
export * from './engine/interventions.js';
export * from './engine/upload.js';
export * from './engine/weight-access.js';
export * from './engine/weights.js';
export * from './errors.js';
export * from './export/safetensors-writer.js';
export * from './families/index.js';
export * from './loading/index.js';
export * from './model.js';
export * from './tokenizer/index.js';
