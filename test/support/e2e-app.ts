/**
 * The built web app for end-to-end tests: one `vite build` into a temporary folder, with the bundled
 * default model when public/ has it and otherwise the llama_gqa fixture served as a bundled model
 * ("dev-fixture"), so the tests work on a clean clone. Also makes a synthetic 6-layer model with a
 * 1,024-token context (layers of the fixture repeated) for the long-prompt test.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeSafetensors, type TensorToWrite } from '../../packages/models/src/export/safetensors-writer.js';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'models', 'llama_gqa');
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'e2e');
const MODEL_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

export interface BuiltApp {
  /** The build output (index.html, assets/, models/). */
  dir: string;
  /** The bundled model the tests use and the URL query that selects it ('' for the default). */
  modelId: string;
  query: string;
  /** The model's folder on disk (for the Node reference run). */
  modelDir: string;
  /** The llama_gqa fixture, always bundled as "dev-fixture" (fast tests of flows that do not need the real model). */
  fixtureQuery: string;
  fixtureDir: string;
}

/** `vite build` of apps/web into a new temporary folder. */
export function viteBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'headscope-e2e-'));
  const web = join(REPO_ROOT, 'apps', 'web');
  const vite = join(web, 'node_modules', '.bin', 'vite');
  const r = spawnSync(vite, ['build', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: web, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return dir;
}

/**
 * A fresh copy of the app for one test file (files may add models to it): copied from the build the e2e
 * project's global setup made once (`template`), or built here when there is none.
 */
export function buildApp(template?: string): BuiltApp {
  let dir: string;
  if (template) {
    dir = mkdtempSync(join(tmpdir(), 'headscope-e2e-'));
    cpSync(template, dir, { recursive: true });
  } else dir = viteBuild();
  const dev = join(dir, 'models', 'dev-fixture');
  mkdirSync(dev, { recursive: true });
  for (const f of MODEL_FILES) copyFileSync(join(FIXTURE, f), join(dev, f));
  const fixture = { fixtureQuery: '?model=bundled:dev-fixture', fixtureDir: dev };
  const tiny = join(dir, 'models', 'headscope-tiny');
  if (MODEL_FILES.every((f) => existsSync(join(tiny, f)))) return { dir, modelId: 'headscope-tiny', query: '', modelDir: tiny, ...fixture };
  return { dir, modelId: 'dev-fixture', query: fixture.fixtureQuery, modelDir: dev, ...fixture };
}

function readSafetensors(file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`${name}: expected F32`);
    const bytes = buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    out.set(name, { shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) });
  }
  return out;
}

/** A Llama model of `layers` layers (the fixture's three, repeated) and a 1,024-token context, into `dir`. */
export function makeLongModel(dir: string, layers = 6, nCtx = 1024): void {
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')) as Record<string, unknown>;
  const baseLayers = config['num_hidden_layers'] as number;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: layers, max_position_embeddings: nCtx }, null, 2));
  const tk = JSON.parse(readFileSync(join(FIXTURE, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...tk, model_max_length: nCtx }, null, 2));
  for (const f of ['tokenizer.json', 'generation_config.json']) copyFileSync(join(FIXTURE, f), join(dir, f));
  const src = readSafetensors(join(FIXTURE, 'model.safetensors'));
  const tensors: TensorToWrite[] = [];
  for (const [name, t] of src) {
    const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
    if (!m) tensors.push({ name, shape: t.shape, data: t.data });
    else for (let l = Number(m[1]); l < layers; l += baseLayers) tensors.push({ name: `model.layers.${l}.${m[2]}`, shape: t.shape, data: t.data });
  }
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
}
