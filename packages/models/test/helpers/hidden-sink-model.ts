/**
 * The gpt2 fixture with one head rebuilt so that it has a hidden sink by construction: head 1 of layer 0
 * sends almost all attention of every query to the token " the" (id 259), wherever it stands. ACT on that
 * head must then move real mass and change the logits. The same files feed the PyTorch reference job.
 *
 * How: residual channel 0 becomes a marker (0 in every position embedding and every token embedding but
 * " the", where it is 3), layer 0's ln_1 passes channel 0 through (weight 1, bias 0); the head's query is a
 * constant (bias only) and its key reads channel 0 alone, so its score is large exactly on " the".
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamTensors } from '../../src/index.js';
import { NodeDirSource } from '../../src/node.js';
import { buildSafetensors, f32 } from './safetensors.js';

export const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/models', import.meta.url));
export const HIDDEN_SINK = { layer: 0, head: 1, token: 259 } as const;

const D_HEAD = 16;
const QUERY = 4;
const KEY = 1.5;

export async function writeHiddenSinkGpt2(outDir: string): Promise<string> {
  const src = join(FIXTURES, 'gpt2');
  mkdirSync(outDir, { recursive: true });
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for await (const t of streamTensors(new NodeDirSource(src), ['model.safetensors'])) tensors.set(t.name, { shape: t.shape, data: Float32Array.from(t.data) });
  const get = (name: string) => tensors.get(name)!;
  const wte = get('transformer.wte.weight');
  const d = wte.shape[1]!;
  for (let v = 0; v < wte.shape[0]!; v++) wte.data[v * d] = v === HIDDEN_SINK.token ? 3 : 0;
  const wpe = get('transformer.wpe.weight');
  for (let p = 0; p < wpe.shape[0]!; p++) wpe.data[p * d] = 0;
  const l = `transformer.h.${HIDDEN_SINK.layer}.`;
  get(`${l}ln_1.weight`).data[0] = 1;
  get(`${l}ln_1.bias`).data[0] = 0;
  // Conv1D layout: x [*, d] @ W [d, 3d]; columns q | k | v, head h at h·16 … h·16+15 within each.
  const w = get(`${l}attn.c_attn.weight`);
  const b = get(`${l}attn.c_attn.bias`);
  const cols = 3 * d;
  const q0 = HIDDEN_SINK.head * D_HEAD;
  const k0 = d + q0;
  for (let c = 0; c < D_HEAD; c++) {
    for (let r = 0; r < d; r++) {
      w.data[r * cols + q0 + c] = 0;
      w.data[r * cols + k0 + c] = 0;
    }
    b.data[q0 + c] = c === 0 ? QUERY : 0;
    b.data[k0 + c] = 0;
  }
  w.data[k0] = KEY; // row 0 (the marker channel) → key dim 0
  writeFileSync(
    join(outDir, 'model.safetensors'),
    buildSafetensors(
      [...tensors].map(([name, t]) => f32(name, t.shape, t.data)),
      { metadata: { format: 'pt' } },
    ),
  );
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(src, f), join(outDir, f));
  return outDir;
}
