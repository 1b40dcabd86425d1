// Browser-safe loading API. NodeDirSource (node:fs) lives in ./node-dir-source.ts and is exported from a Node-only entry.
export { BrowserFilesSource } from './browser-files-source.js';
export {
  findWeightFiles,
  INDEX_FILE,
  parseIndex,
  readCheckpointHeaders,
  readTextIfExists,
  SINGLE_FILE,
  type TensorLocation,
  type WeightFiles,
} from './checkpoint.js';
export { bf16BitsToFloat, DTYPE_BYTES, decodeFloat, decodeInt, type FloatDtype, halfBitsToFloat, type IntDtype, isFloatDtype } from './dtype.js';
export { type CacheLike, HttpSource, type HttpSourceOptions } from './http-source.js';
export { bundledSource, DEFAULT_HUB_ENDPOINT, type HubSourceOptions, hubSource, parseRepoId, type RepoRef } from './hub.js';
export { checkLimits, type InspectOptions, inspectModel, type ModelInspection, type ResolvedTensor } from './inspect.js';
export { type CanonicalTensor, canonicalTensors, type GenerationConfig, type LoadedModelFiles, type LoadModelOptions, loadModelFiles } from './load-model.js';
export { type LoadProgress, type ProgressListener, ProgressTracker } from './progress.js';
export { MAX_HEADER_BYTES, parseHeader, parseHeaderLength, readSafetensorsHeader, type SafetensorsHeader, type TensorInfo } from './safetensors.js';
export type { ByteRange, FileSource, ReadOptions, StreamOptions } from './source.js';
export { type RawTensor, type StreamTensorsOptions, streamTensors } from './stream-tensors.js';
export {
  describeWeightMemory,
  type StoredDtype,
  storedBytes,
  storedDtype,
  type WeightMemory,
  type WeightPrecision,
  weightMemoryOf,
} from './weight-storage.js';
