export {
  type AttentionSoftmax,
  analyseGraph,
  type ExternalTensor,
  type GraphExpectations,
  type OnnxGraphReport,
  parseOnnx,
  withAttentionOutputs,
} from './attention-graph.js';
export * from './errors.js';
export { inspectOnnx, type OnnxInspection } from './inspect-onnx.js';
export { type OnnxModelConfig, parseOnnxConfig } from './onnx-config.js';
export {
  findOnnxGraph,
  type LoadOnnxOptions,
  loadOnnxModel,
  type ModelCapabilities,
  ONNX_FILE,
  ONNX_SUBFOLDER,
  type OnnxExecutionProvider,
  type OnnxLoadedModel,
  type OnnxRunResult,
  onnxCapabilities,
} from './onnx-model.js';
export {
  ATTR,
  encodeModel,
  int64,
  ONNX_EXTERNAL,
  ONNX_FLOAT,
  ONNX_INT64,
  type OnnxGraph,
  type OnnxModelProto,
  type OnnxNode,
  type OnnxTensor,
} from './proto.js';
