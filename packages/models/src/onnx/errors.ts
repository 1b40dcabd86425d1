/** Typed errors of the ONNX path (same pattern as ../errors.ts: message = what happened + fix). */
import { ModelLoadError } from '../errors.js';

const UNFUSED_EXPORT =
  'Export again from the model loaded with attn_implementation="eager" (torch.onnx.export, or optimum-cli export onnx --no-post-process), and do not run onnxruntime.transformers.optimizer on it: the attention probabilities must stay a Softmax node.';

/** The bytes are not an ONNX ModelProto (another format, or a damaged file). */
export class OnnxFormatError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(
      `"${file}" is not an ONNX model (${detail}).`,
      'Pick the model.onnx of an ONNX export (torch.onnx.export or optimum-cli export onnx), or the folder that holds it; for safetensors checkpoints leave the format on "auto".',
    );
  }
}

/** No Softmax whose input is a Q·Kᵀ product: the graph hides attention in fused or decomposed form. */
export class NoAttentionSoftmaxError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly softmaxNodes: number,
  ) {
    super(
      `"${file}" has no attention Softmax (${softmaxNodes} Softmax node${softmaxNodes === 1 ? '' : 's'}, none fed by a Q·Kᵀ MatMul and feeding a ·V MatMul).`,
      UNFUSED_EXPORT,
    );
  }
}

/** A fused attention op: its probabilities never exist as a tensor Headscope could read. */
export class FusedAttentionError extends ModelLoadError {
  constructor(
    readonly file: string,
    /** e.g. "com.microsoft.GroupQueryAttention". */
    readonly op: string,
    readonly count: number,
  ) {
    super(
      `"${file}" computes attention with the fused op ${op} (${count} node${count === 1 ? '' : 's'}), which does not expose the attention probabilities.`,
      UNFUSED_EXPORT,
    );
  }
}

/** config.json and the graph disagree (layer count, heads, vocabulary). */
export class OnnxConfigMismatchError extends ModelLoadError {
  constructor(readonly detail: string) {
    super(`config.json does not match the ONNX graph: ${detail}.`, 'Take config.json and model.onnx from the same export (the same repository and revision).');
  }
}

/** An external-data file is shorter than the tensors the graph places in it. */
export class ExternalDataTruncatedError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly neededBytes: number,
    readonly actualBytes: number,
  ) {
    super(
      `The external-data file "${file}" is truncated: the graph's weights need ${neededBytes} bytes but it has ${actualBytes}.`,
      `Copy or download "${file}" again, completely, beside model.onnx (clear the browser cache for this model if it came from the hub).`,
    );
  }
}

/** An external-data location that is not a plain file name beside the graph. */
export class ExternalDataLocationError extends ModelLoadError {
  constructor(readonly location: string) {
    super(
      `The graph places weights in "${location}", which is not a file beside model.onnx.`,
      'Save the model again with onnx.save_model(..., save_as_external_data=True, location="model.onnx_data") so that the weights sit in one file next to it.',
    );
  }
}
