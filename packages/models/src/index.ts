// Browser-safe entry of @headscope/models. Node-only pieces (NodeDirSource) are in ./node.ts.

export * from './cpu-model.js';
export * from './engine/attention-store.js';
export * from './engine/captured-maps.js';
export * from './engine/cpu-attention-store.js';
export * from './engine/cpu-errors.js';
export * from './engine/cpu-forward.js';
export * from './engine/cpu-weights.js';
export * from './engine/decode.js';
export * from './engine/decode-trace.js';
export * from './engine/forward.js';
export * from './engine/head-attribution.js';
export * from './engine/interventions.js';
export * from './engine/ov-circuit.js';
export * from './engine/run-cost.js';
export * from './engine/upload.js';
export * from './engine/weight-access.js';
export * from './engine/weights.js';
export * from './errors.js';
export * from './export/safetensors-writer.js';
export * from './families/index.js';
export * from './loading/index.js';
export * from './model.js';
export * from './onnx/index.js';
export * from './tokenizer/index.js';
