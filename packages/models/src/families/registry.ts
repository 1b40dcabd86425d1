/** model_type → FamilySpec (the transformers.js-style registry), and config.json → { spec, config }. */
import { InvalidConfigError, UnsupportedModelTypeError } from '../errors.js';
import { gemma2, gemma3 } from './gemma.js';
import { gptNeox } from './gpt-neox.js';
import { gpt2 } from './gpt2.js';
import { llama } from './llama.js';
import { mistral } from './mistral.js';
import { olmo2 } from './olmo2.js';
import { qwen2 } from './qwen2.js';
import { qwen3 } from './qwen3.js';
import { smollm3 } from './smollm3.js';
import type { FamilySpec, ModelConfig } from './types.js';

const REGISTRY = new Map<string, FamilySpec>();
for (const spec of [gpt2, gptNeox, llama, qwen2, mistral, gemma2, gemma3, qwen3, olmo2, smollm3]) for (const t of spec.modelTypes) REGISTRY.set(t, spec);

export function supportedModelTypes(): string[] {
  return [...REGISTRY.keys()].sort();
}

export function familyFor(modelType: string): FamilySpec {
  const spec = REGISTRY.get(modelType);
  if (!spec) throw new UnsupportedModelTypeError(modelType, supportedModelTypes());
  return spec;
}

/** Parses config.json (text or already parsed) and picks the family by its model_type. */
export function parseModelConfig(config: string | unknown): { spec: FamilySpec; config: ModelConfig } {
  let raw: unknown = config;
  if (typeof config === 'string') {
    try {
      raw = JSON.parse(config);
    } catch (e) {
      throw new InvalidConfigError('config.json', [`not valid JSON (${(e as Error).message})`]);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidConfigError('config.json', ['the top level is not a JSON object']);
  const modelType = (raw as { model_type?: unknown }).model_type;
  if (typeof modelType !== 'string') throw new InvalidConfigError('config.json', ['model_type: required (a string such as "llama")']);
  const spec = familyFor(modelType);
  return { spec, config: spec.parseConfig(raw) };
}
