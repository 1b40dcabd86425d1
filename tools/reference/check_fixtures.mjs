#!/usr/bin/env node
// Sanity check of the reference fixtures made by make_fixtures.py (node built-ins only):
// every reference.safetensors parses, its tensors have the dtypes/shapes that reference.json promises,
// attention rows are causal probability distributions, and the model files (config, tokenizer, single
// or sharded safetensors) parse with the dtype the fixture claims.
// Usage: node tools/reference/check_fixtures.mjs [test/fixtures/models]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? 'test/fixtures/models';
const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };
const WEIGHT_DTYPE = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };

function readSafetensors(path) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const data = buf.subarray(8 + n);
  const tensors = {};
  let end = 0;
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = t.data_offsets;
    const count = t.shape.reduce((x, y) => x * y, 1);
    if (b - a !== count * DTYPE_BYTES[t.dtype]) throw new Error(`${path}: ${name} has ${b - a} bytes for ${t.dtype}${JSON.stringify(t.shape)}`);
    end = Math.max(end, b);
    tensors[name] = { ...t, count, bytes: data.subarray(a, b) };
  }
  if (end !== data.length) throw new Error(`${path}: data is ${data.length} bytes, tensors end at ${end}`);
  return { header, tensors, metadata: header.__metadata__ ?? {} };
}

function values(t) {
  const b = t.bytes;
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  if (t.dtype === 'F32') return new Float32Array(ab);
  if (t.dtype === 'I32') return new Int32Array(ab);
  throw new Error(`no reader for ${t.dtype}`);
}

function expectShape(t, name, dtype, shape) {
  if (!t) throw new Error(`missing tensor ${name}`);
  if (t.dtype !== dtype || JSON.stringify(t.shape) !== JSON.stringify(shape)) {
    throw new Error(`${name}: ${t.dtype}${JSON.stringify(t.shape)}, expected ${dtype}${JSON.stringify(shape)}`);
  }
}

function checkWeights(dir, ref) {
  const want = WEIGHT_DTYPE[ref.weights_dtype];
  let files;
  if (existsSync(join(dir, 'model.safetensors.index.json'))) {
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    files = [...new Set(Object.values(index.weight_map))].sort();
  } else {
    files = ['model.safetensors'];
  }
  let params = 0;
  for (const f of files) {
    const { tensors } = readSafetensors(join(dir, f));
    for (const [name, t] of Object.entries(tensors)) {
      if (t.dtype !== want) throw new Error(`${f}: ${name} is ${t.dtype}, expected ${want}`);
      params += t.count;
    }
  }
  return { files, params };
}

let failures = 0;
const rows = [];
for (const name of readdirSync(root).sort()) {
  const dir = join(root, name);
  if (!statSync(dir).isDirectory()) continue;
  try {
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
    const { tensors } = readSafetensors(join(dir, 'reference.safetensors'));
    const { T, vocab_size: V } = ref;
    const L = ref.dims.num_layers;
    const H = ref.dims.num_heads;
    expectShape(tensors.input_ids, 'input_ids', 'I32', [T]);
    expectShape(tensors.logits, 'logits', 'F32', [T, V]);
    expectShape(tensors.greedy_ids, 'greedy_ids', 'I32', [20]);
    const ids = Array.from(values(tensors.input_ids));
    if (JSON.stringify(ids) !== JSON.stringify(ref.input_ids)) throw new Error('input_ids differ from reference.json');
    const greedy = Array.from(values(tensors.greedy_ids));
    if (JSON.stringify(greedy) !== JSON.stringify(ref.greedy_ids)) throw new Error('greedy_ids differ from reference.json');
    if (greedy.some((g) => g < 0 || g >= V)) throw new Error('greedy id out of range');
    if (!ref.greedy_kv_cache_equals_no_cache) throw new Error('KV-cache greedy ids differ from no-cache ones');
    if (!values(tensors.logits).every(Number.isFinite)) throw new Error('non-finite logits');
    let worstRow = 0;
    for (let l = 0; l < L; l++) {
      const t = tensors[`attn.${l}`];
      expectShape(t, `attn.${l}`, 'F32', [H, T, T]);
      const a = values(t);
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < T; i++) {
          let s = 0;
          for (let j = 0; j < T; j++) {
            const p = a[(h * T + i) * T + j];
            if (j > i && p !== 0) throw new Error(`attn.${l} head ${h}: non-zero weight above the diagonal`);
            s += p;
          }
          worstRow = Math.max(worstRow, Math.abs(s - 1));
        }
      }
    }
    if (worstRow > 1e-4) throw new Error(`attention rows sum to 1 ± ${worstRow}`);
    if (tensors[`attn.${L}`]) throw new Error(`more attention layers than ${L}`);
    let weights = '(model files in ../shared)';
    if (existsSync(join(dir, 'config.json'))) {
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
      JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
      if (cfg.model_type !== ref.dims.model_type) throw new Error(`config model_type ${cfg.model_type}`);
      if (tok.model?.type !== 'BPE') throw new Error('tokenizer.json is not a BPE model');
      const w = checkWeights(dir, ref);
      weights = `${w.files.length} file(s), ${w.params} params ${ref.weights_dtype}`;
    }
    rows.push(`ok   ${name.padEnd(18)} T=${String(T).padStart(2)} V=${String(V).padStart(3)} L=${L} H=${H} ${weights}`);
  } catch (e) {
    failures++;
    rows.push(`FAIL ${name}: ${e.message}`);
  }
}
console.log(rows.join('\n'));
console.log(`${rows.length - failures} fixture(s) ok, ${failures} failed`);
process.exit(failures === 0 && rows.length > 0 ? 0 : 1);
