/**
 * What an ONNX model folder holds, before loading it: config.json, the graph's size, and — where the graph
 * file is small enough to read now (weights in external data, or a small model) — its parameters and the
 * attention check, so that a fused or mismatched export is refused before any weight is downloaded.
 */
import { MissingFileError } from '../errors.js';
import { readTextIfExists } from '../loading/checkpoint.js';
import type { FileSource } from '../loading/source.js';
import { analyseGraph, type OnnxGraphReport, parseOnnx } from './attention-graph.js';
import { type OnnxModelConfig, parseOnnxConfig } from './onnx-config.js';
import { checkExternalData, findOnnxGraph, ONNX_FILE } from './onnx-model.js';

/** Graph files up to this size are read and checked at inspection. */
const INSPECT_READ_BYTES = 64 << 20;

export interface OnnxInspection {
  config: OnnxModelConfig;
  /** model.onnx plus its external data, where known (else model.onnx alone). */
  bytes: number;
  /** Counted from the graph's initializers; estimated as bytes / 4 when the graph was not read. */
  parameters: number;
  parametersExact: boolean;
  report: OnnxGraphReport | undefined;
}

/** undefined when the source holds no model.onnx (at its top or in onnx/). */
export async function inspectOnnx(source: FileSource, signal?: AbortSignal): Promise<OnnxInspection | undefined> {
  const read = signal ? { signal } : undefined;
  const graph = await findOnnxGraph(source, signal);
  if (!graph) return undefined;
  const text = await readTextIfExists(source, 'config.json', read);
  if (text === undefined) throw new MissingFileError('config.json', source.name);
  const config = parseOnnxConfig(text);
  const size = (await graph.size(ONNX_FILE, read)) ?? 0;
  if (size > INSPECT_READ_BYTES) return { config, bytes: size, parameters: Math.round(size / 4), parametersExact: false, report: undefined };
  const report = analyseGraph(parseOnnx(await graph.read(ONNX_FILE, undefined, read)), config);
  let bytes = size;
  for (const n of (await checkExternalData(graph, report, signal)).values()) bytes += n;
  return { config, bytes, parameters: report.parameters, parametersExact: true, report };
}
