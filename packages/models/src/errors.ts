/**
 * Typed model-loading errors. Same pattern as the GPU runtime's errors: `message` = what happened + `fix`,
 * and `fix` alone is one sentence the user can act on. Every bad input the loader can meet ends in one of
 * these (never a raw TypeError/RangeError), so the app can show it and keep the session.
 */
import { formatBytes } from '@headscope/wgpu-kernels';
import type { RunCost } from './engine/run-cost.js';

export class ModelLoadError extends Error {
  readonly fix: string;
  /** What happened, without the fix (a UI that shows the two apart reads this and `fix`). */
  readonly happened: string;
  constructor(what: string, fix: string, options?: { cause?: unknown }) {
    super(`${what} ${fix}`, options);
    this.name = new.target.name;
    this.fix = fix;
    this.happened = what;
  }
}

const REDOWNLOAD = 'The file is damaged or was cut short: download it again (clear the browser cache for this model if it came from the hub).';

/** Fewer bytes than the safetensors format or the header requires. */
export class SafetensorsTruncatedError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly expectedBytes: number,
    readonly actualBytes: number,
  ) {
    super(`"${file}" is truncated: it needs at least ${expectedBytes} bytes but has ${actualBytes}.`, REDOWNLOAD);
  }
}

/** The 8-byte header length points past the end of the file (or is absurdly large). */
export class SafetensorsHeaderLengthError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly headerLength: number,
    readonly fileSize: number | undefined,
  ) {
    super(
      `"${file}" declares a ${headerLength}-byte header${fileSize === undefined ? ', beyond the 100 MB the format allows' : `, but the file has only ${fileSize} bytes`}.`,
      'This is not a valid safetensors file (or it is truncated): re-export it with the safetensors library or download it again.',
    );
  }
}

/** The header is not valid JSON, or not the {name: {dtype, shape, data_offsets}} structure. */
export class SafetensorsHeaderJsonError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`The safetensors header of "${file}" is invalid: ${detail}.`, 'Re-export the checkpoint with the safetensors library, or download it again.');
  }
}

export type OffsetProblem = 'out-of-range' | 'overlap' | 'size-mismatch';

/** data_offsets that point outside the data, overlap another tensor, or do not fit dtype × shape. */
export class SafetensorsOffsetsError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly tensor: string,
    readonly problem: OffsetProblem,
    detail: string,
  ) {
    super(
      `Tensor "${tensor}" in "${file}" has bad data_offsets (${problem}): ${detail}.`,
      'The checkpoint is corrupt: re-export it with the safetensors library.',
    );
  }
}

/** A dtype the loader cannot turn into fp32 (or an unknown dtype name in a header). */
export class UnsupportedDtypeError extends ModelLoadError {
  constructor(
    readonly tensor: string,
    readonly dtype: string,
  ) {
    super(
      `Tensor "${tensor}" has dtype ${dtype}, which Headscope cannot load.`,
      'Convert the checkpoint to F32, F16 or BF16 (e.g. save it with torch_dtype=float16).',
    );
  }
}

/** A checkpoint tensor whose shape or dtype disagrees with what config.json implies for it. */
export class TensorMismatchError extends ModelLoadError {
  constructor(
    readonly tensor: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `Tensor "${tensor}" is ${actual}, but config.json implies ${expected}.`,
      'config.json and the weights come from different models: download them from the same repository and revision.',
    );
  }
}

/** A tensor the family needs is absent from every shard. `lookedFor`: checkpoint names tried, or where it was sought. */
export class MissingTensorError extends ModelLoadError {
  readonly candidates: readonly string[];
  constructor(
    readonly canonical: string,
    lookedFor: readonly string[] | string,
  ) {
    const where = typeof lookedFor === 'string' ? `in ${lookedFor}` : `looked for ${lookedFor.map((c) => `"${c}"`).join(', ')}`;
    super(
      `The checkpoint has no tensor for ${canonical} (${where}).`,
      'The weights are incomplete or belong to another architecture: check that every shard is present and that config.json matches them.',
    );
    this.candidates = typeof lookedFor === 'string' ? [] : lookedFor;
  }
}

/** config.json names a model_type with no family spec. */
export class UnsupportedModelTypeError extends ModelLoadError {
  constructor(
    readonly modelType: string,
    readonly supported: readonly string[],
  ) {
    super(`Model type "${modelType}" is not supported.`, `Pick a model of a supported type: ${supported.join(', ')}.`);
  }
}

/** A config option whose behaviour the forward pass does not implement (e.g. yarn rope scaling). */
export class UnsupportedConfigError extends ModelLoadError {
  constructor(
    readonly option: string,
    readonly value: string,
    supported: string,
  ) {
    super(
      `config.json sets ${option} = ${value}, which Headscope does not implement (supported: ${supported}).`,
      'Pick a model that does not use this option.',
    );
  }
}

/** config.json is missing fields, has wrong types or inconsistent numbers. */
export class InvalidConfigError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly issues: readonly string[],
  ) {
    super(`${file} is invalid: ${issues.join('; ')}.`, 'Use the config.json published with the model; it may be damaged or from another library.');
  }
}

/** A file the loader needs is not in the source. */
export class MissingFileError extends ModelLoadError {
  constructor(
    readonly file: string,
    readonly source: string,
    fix = `Add "${file}" to the model folder (it is published next to the weights on the hub).`,
  ) {
    super(`"${file}" was not found in ${source}.`, fix);
  }
}

/** No tokenizer.json: the model can be loaded but not prompted. */
export class MissingTokenizerError extends MissingFileError {
  constructor(source: string) {
    super(
      'tokenizer.json',
      source,
      'Add the model\'s tokenizer.json (older repos only ship vocab files: save the tokenizer with a recent "tokenizers" version to get one).',
    );
  }
}

/** Neither model.safetensors nor a sharded index was found (perhaps only pytorch_model.bin). */
export class MissingWeightsError extends ModelLoadError {
  constructor(readonly source: string) {
    super(
      `No safetensors weights were found in ${source} (looked for model.safetensors and model.safetensors.index.json).`,
      'Use a repository that publishes safetensors weights, or convert pytorch_model.bin with the safetensors conversion tool.',
    );
  }
}

/** model.safetensors.index.json is malformed or disagrees with the shards. */
export class CheckpointIndexError extends ModelLoadError {
  constructor(detail: string) {
    super(`The sharded checkpoint index is invalid: ${detail}.`, 'Download model.safetensors.index.json and all shards again from the same revision.');
  }
}

/** A prompt with more tokens than the model's context window. */
export class ContextLengthError extends ModelLoadError {
  constructor(
    readonly tokens: number,
    readonly nCtx: number,
  ) {
    super(`The prompt has ${tokens} tokens, but the model's context holds ${nCtx}.`, `Shorten the prompt by at least ${tokens - nCtx} tokens.`);
  }
}

/**
 * A run whose buffers would not fit: a single buffer above the adapter's binding limit, or a total above the
 * caller's budget. Thrown before anything runs, with the estimate, so the app can show what to change.
 */
export class RunTooLargeError extends ModelLoadError {
  constructor(
    readonly cost: RunCost,
    readonly what: string,
    readonly bytes: number,
    readonly allowedBytes: number,
    where: string,
  ) {
    super(
      `This run of ${cost.tokens} tokens needs ${formatBytes(bytes)} for ${what}, but ${formatBytes(allowedBytes)} is allowed ${where}.`,
      /maps/.test(what)
        ? 'Keep the maps of fewer layers or heads (capture layers, capture heads: each head then gets its own buffer) and ask for reductions only (capture stats), or use a shorter prompt.'
        : /logits/.test(what)
          ? "Ask for the last position's logits only (logits: 'last'), or use a shorter prompt."
          : "Use a shorter prompt, keep fewer layers' maps, or a smaller model.",
    );
  }
}

/** An interrupted download whose server will not continue from the received offset. */
export class DownloadResumeError extends ModelLoadError {
  constructor(
    readonly url: string,
    readonly received: number,
    readonly total: number | undefined,
    reason: string,
  ) {
    super(
      `The download of ${url} stopped after ${received}${total === undefined ? '' : ` of ${total}`} bytes and cannot resume: ${reason}.`,
      'Check the connection and start the download again.',
    );
  }
}

/** An HTTP response that is not the file (404, 401/403 for gated repos, 5xx). */
export class HttpStatusError extends ModelLoadError {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`${url} answered HTTP ${status}.`, httpFix(status));
  }
}

function httpFix(status: number): string {
  if (status === 401 || status === 403) return 'The repository is gated or private: accept its licence on the hub page and pass an access token.';
  if (status === 404) return 'Check the repository id, the revision and that the file exists in that revision.';
  if (status === 416) return 'The file changed on the server during the download: start again.';
  return 'The server had a problem: try again in a minute.';
}

/** fetch itself failed (offline, DNS, CORS). */
export class NetworkError extends ModelLoadError {
  constructor(
    readonly url: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Could not reach ${url} (${detail}).`, 'Check the network connection (and, for a custom endpoint, that it allows cross-origin requests).', options);
  }
}

/** The caller aborted the load through its AbortSignal. */
export class LoadAbortedError extends ModelLoadError {
  constructor(what: string) {
    super(`Loading ${what} was cancelled.`, 'Start the load again when you are ready.');
  }
}

/** The model (or its largest tensor) does not fit the GPU limit passed in; raised before any weight download. */
export class ModelTooLargeError extends ModelLoadError {
  constructor(
    readonly tensor: string,
    readonly bytes: number,
    readonly limitBytes: number,
    readonly limit: string,
    /** How the bytes are stored: "fp32", or e.g. "bf16 matrices" for a 16-bit checkpoint. */
    readonly storedAs = 'fp32',
  ) {
    super(
      `${tensor} needs ${formatSize(bytes)} as ${storedAs}, but ${limit} is ${formatSize(limitBytes)}.`,
      'Pick a smaller model, or use a GPU/browser with larger WebGPU limits.',
    );
  }
}

/** A repo id that is not `owner/name[@revision]`. */
export class InvalidRepoIdError extends ModelLoadError {
  constructor(readonly repoId: string) {
    super(`"${repoId}" is not a hub repository id.`, 'Write it as owner/name or owner/name@revision, e.g. EleutherAI/pythia-70m@main.');
  }
}

/** A tokenizer.json the tokenizer library cannot build. */
export class InvalidTokenizerError extends ModelLoadError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `tokenizer.json could not be loaded: ${detail}.`,
      'Use the tokenizer.json published with the model, saved by a recent "tokenizers" version.',
      options,
    );
  }
}

export function formatSize(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}
