/** Pieces of config.json parsing shared by the families: zod → typed errors, rope, activations, token ids. */
import { z } from 'zod';
import { InvalidConfigError, UnsupportedConfigError } from '../errors.js';
import type { Activation, ModelConfig, RopeScaling } from './types.js';

export const posInt = z.number().int().positive();
export const nonNegInt = z.number().int().nonnegative();
export const positive = z.number().positive();
/** Token ids: a number, a list (Llama-3 instruct has several EOS ids), or null. */
export const tokenIds = z.union([nonNegInt, z.array(nonNegInt), z.null()]).optional();

/** Runs a zod schema; failures become InvalidConfigError listing each bad field. */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown, file = 'config.json'): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new InvalidConfigError(
    file,
    r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`),
  );
}

export function firstId(v: number | number[] | null | undefined): number | null {
  if (v === undefined || v === null) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

export function allIds(v: number | number[] | null | undefined): number[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? [...v] : [v];
}

const ACTIVATIONS: Record<string, Activation> = {
  gelu: 'gelu_erf',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  // gelu_fast is the same tanh approximation, written with the constants multiplied out.
  gelu_fast: 'gelu_tanh',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

export function mapActivation(field: string, name: string): Activation {
  const a = ACTIVATIONS[name];
  if (!a) throw new UnsupportedConfigError(field, JSON.stringify(name), Object.keys(ACTIVATIONS).join(', '));
  return a;
}

/** rope_scaling as written by transformers ≤4 (`rope_scaling`) or ≥5 (`rope_parameters`, which also holds the theta). */
export const ropeObjectSchema = z.object({
  rope_type: z.string().optional(),
  type: z.string().optional(),
  factor: positive.optional(),
  low_freq_factor: positive.optional(),
  high_freq_factor: positive.optional(),
  original_max_position_embeddings: posInt.optional(),
  rope_theta: positive.optional(),
  partial_rotary_factor: z.number().gt(0).lte(1).optional(),
});

export const ropeScalingSchema = ropeObjectSchema.nullable().optional();

export type RawRopeScaling = z.infer<typeof ropeScalingSchema>;

const SUPPORTED_ROPE = 'default (none), linear, llama3';

export function parseRopeScaling(raw: RawRopeScaling, field = 'rope_scaling'): RopeScaling {
  if (!raw) return { type: 'none' };
  const type = raw.rope_type ?? raw.type ?? 'default';
  const need = (key: keyof NonNullable<RawRopeScaling>): number => {
    const v = raw[key];
    if (typeof v !== 'number') throw new InvalidConfigError('config.json', [`${field}.${key}: required for rope type "${type}"`]);
    return v;
  };
  switch (type) {
    case 'default':
      return { type: 'none' };
    case 'linear':
      return { type: 'linear', factor: need('factor') };
    case 'llama3': {
      const s: RopeScaling = {
        type: 'llama3',
        factor: need('factor'),
        lowFreqFactor: need('low_freq_factor'),
        highFreqFactor: need('high_freq_factor'),
        originalMaxPositions: need('original_max_position_embeddings'),
      };
      if (s.highFreqFactor <= s.lowFreqFactor) {
        throw new InvalidConfigError('config.json', [`${field}: high_freq_factor (${s.highFreqFactor}) must exceed low_freq_factor (${s.lowFreqFactor})`]);
      }
      return s;
    }
    default:
      throw new UnsupportedConfigError(`${field}.rope_type`, JSON.stringify(type), SUPPORTED_ROPE);
  }
}

/** Cross-field checks every family shares; returns the config unchanged when it is consistent. */
export function checkConsistent(c: ModelConfig): ModelConfig {
  const issues: string[] = [];
  if (c.nHeads % c.nKvHeads !== 0) issues.push(`num_attention_heads (${c.nHeads}) is not a multiple of num_key_value_heads (${c.nKvHeads})`);
  if (c.rotary) {
    if (c.rotary.dim % 2 !== 0 || c.rotary.dim <= 0) issues.push(`the rotary dimension (${c.rotary.dim}) must be even and positive`);
    if (c.rotary.dim > c.dHead) issues.push(`the rotary dimension (${c.rotary.dim}) exceeds the head dimension (${c.dHead})`);
  }
  if (issues.length) throw new InvalidConfigError('config.json', issues);
  return c;
}

/** The head size a config implies when it has no explicit head_dim. */
export function headDim(hidden: number, heads: number, explicit: number | null | undefined): number {
  if (explicit) return explicit;
  if (hidden % heads !== 0) throw new InvalidConfigError('config.json', [`hidden_size (${hidden}) is not divisible by the number of heads (${heads})`]);
  return hidden / heads;
}
