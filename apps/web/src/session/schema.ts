/**
 * A session: plain, versioned data, validated on the way in (links, files, the local store). Limits are strict
 * so that hostile input is rejected before the app acts on it; strings are kept exactly as written (rendering
 * them as text is the UI's job). Older versions migrate (migrate.ts); a newer version is a typed error.
 */
import type { Intervention } from '@headscope/models';
import { z } from 'zod';

export const SESSION_VERSION = 3;

export const LIMITS = {
  nameChars: 200,
  prompts: 100,
  promptChars: 16_384,
  /** Layer, head and compare indices. */
  index: 4095,
  query: 1_000_000,
  localFiles: 64,
  fileNameChars: 255,
  interventions: 256,
  interventionKeys: 4096,
  /** |logit bias|, |head scale| and β stay below this. */
  magnitude: 1e4,
  detectorKeys: 64,
  detectorKeyChars: 64,
  detectorStringChars: 1_000,
  detectorArray: 256,
  compare: 3,
  /** Timestamps (ms since 1970) up to the year 3000. */
  time: 32_503_680_000_000,
} as const;

const index = z.int().min(0).max(LIMITS.index);
const magnitude = z.number().min(-LIMITS.magnitude).max(LIMITS.magnitude);

export const BUNDLED_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** `owner/name` on the hub (the hub's own rules, roughly). */
export const HUB_REPO = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
const HUB_REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

export const SessionModelSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bundled'), id: z.string().min(1).max(128).regex(BUNDLED_ID, 'not a bundled model id') }),
  z.object({
    kind: z.literal('hub'),
    repo: z.string().max(193).regex(HUB_REPO, 'not an owner/name hub repository'),
    revision: z
      .string()
      .min(1)
      .max(128)
      .regex(HUB_REVISION, 'not a hub revision')
      .refine((r) => !r.includes('..'), 'not a hub revision'),
  }),
  z.object({
    kind: z.literal('local'),
    name: z.string().min(1).max(LIMITS.nameChars),
    /** SHA-256 (hex) over the model's files, checked when the files are opened again. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'not a SHA-256 hex digest'),
    files: z
      .array(z.object({ name: z.string().min(1).max(LIMITS.fileNameChars), size: z.int().min(0) }))
      .min(1)
      .max(LIMITS.localFiles),
  }),
]);

const headRef = z.object({ layer: index, head: index });
const headOrAll = z.union([index, z.literal('all')]);

/** An intervention as stored: like `Intervention`, with a mask written as 'mask' (JSON has no −∞). */
export const SessionInterventionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('logitBias'),
    layer: index,
    head: headOrAll,
    key: z.union([z.int().min(0).max(LIMITS.query), z.literal('all')]),
    value: z.union([magnitude, z.literal('mask')]),
  }),
  z.object({
    kind: z.literal('keyScale'),
    layer: index,
    head: headOrAll,
    keys: z.array(z.int().min(0).max(LIMITS.query)).max(LIMITS.interventionKeys),
    beta: z.number().min(0).max(LIMITS.magnitude),
  }),
  z.object({ kind: z.literal('headScale'), layer: index, head: headOrAll, scale: magnitude }),
  z.object({
    kind: z.literal('act'),
    layer: index,
    head: headOrAll,
    tau: z.number().min(0).max(LIMITS.magnitude).optional(),
    tauMode: z.enum(['absolute', 'relative']).optional(),
    beta: z.number().min(0).max(1).optional(),
    exemptFirst: z.boolean().optional(),
    ignoreLastKeys: z.int().min(0).max(LIMITS.query).optional(),
  }),
  /** A head masked to uniform attention (the retrieval lab's causal check). */
  z.object({ kind: z.literal('uniform'), layer: index, head: headOrAll }),
]);

const detectorKey = z
  .string()
  .min(1)
  .max(LIMITS.detectorKeyChars)
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'not a detector setting name');
const detectorScalar = z.union([z.number(), z.boolean(), z.string().max(LIMITS.detectorStringChars), z.null()]);
export const DetectorSettingsSchema = z
  .record(detectorKey, z.union([detectorScalar, z.array(detectorScalar).max(LIMITS.detectorArray)]))
  .refine((r) => Object.keys(r).length <= LIMITS.detectorKeys, `at most ${LIMITS.detectorKeys} detector settings`);

export const ZoomSchema = z
  .object({
    x0: z.number().min(0).max(LIMITS.query),
    x1: z.number().min(0).max(LIMITS.query),
    y0: z.number().min(0).max(LIMITS.query),
    y1: z.number().min(0).max(LIMITS.query),
  })
  .refine((v) => v.x0 < v.x1 && v.y0 < v.y1, 'the zoom window must have x0 < x1 and y0 < y1');

export const VIEWS = ['heatmap', 'tokens', 'grid'] as const;

/** Heads as typed in the calibration panel: `layer.head` list, `all`, or nothing yet. */
const HEAD_LIST = /^(all|\d{1,4}\.\d{1,4}(,\d{1,4}\.\d{1,4})*)?$/;

/** The calibration panel (format 3): ACT and ZeroTuning settings, each on or off. */
export const CalibrationSchema = z.object({
  act: z.object({
    on: z.boolean(),
    heads: z.string().max(LIMITS.interventionKeys).regex(HEAD_LIST, 'not a head list (layer.head,… or all)'),
    tau: z.number().min(0).max(LIMITS.magnitude),
    tauMode: z.enum(['absolute', 'relative']),
    beta: z.number().min(0).max(1),
  }),
  zeroTuning: z.object({
    on: z.boolean(),
    heads: z.string().max(LIMITS.interventionKeys).regex(HEAD_LIST, 'not a head list (layer.head,… or all)'),
    gamma: z.number().gt(0).max(LIMITS.magnitude),
  }),
});

export const SessionSchema = z
  .object({
    version: z.literal(SESSION_VERSION),
    name: z.string().max(LIMITS.nameChars),
    created: z.int().min(0).max(LIMITS.time),
    updated: z.int().min(0).max(LIMITS.time),
    model: SessionModelSchema,
    prompts: z.array(z.string().max(LIMITS.promptChars)).min(1).max(LIMITS.prompts),
    promptIndex: z
      .int()
      .min(0)
      .max(LIMITS.prompts - 1),
    /** null: the model's own default. */
    bos: z.boolean().nullable(),
    selection: z.object({
      layer: index,
      head: index,
      /** null: the last token. */
      query: z.int().min(0).max(LIMITS.query).nullable(),
      compare: z.array(headRef).max(LIMITS.compare),
    }),
    view: z.object({
      active: z.enum(VIEWS),
      metric: z.enum(['entropy', 'firstMass', 'maxColumn']),
      heatmap: z.object({
        scale: z.enum(['linear', 'log', 'rank']),
        scheme: z.enum(['viridis', 'cividis']),
        foldFirst: z.boolean(),
        /** The visible window in matrix coordinates; null: the whole matrix. */
        zoom: ZoomSchema.nullable(),
      }),
    }),
    interventions: z.array(SessionInterventionSchema).max(LIMITS.interventions).optional(),
    detectors: DetectorSettingsSchema.optional(),
    calibration: CalibrationSchema.optional(),
  })
  .refine((s) => s.promptIndex < s.prompts.length, { message: 'the selected prompt does not exist', path: ['promptIndex'] });

export type Session = z.infer<typeof SessionSchema>;
export type SessionModel = z.infer<typeof SessionModelSchema>;
export type SessionIntervention = z.infer<typeof SessionInterventionSchema>;
export type DetectorSettings = z.infer<typeof DetectorSettingsSchema>;
export type SessionView = Session['view'];

/** The engine's form: 'mask' becomes −∞. */
export function toIntervention(iv: SessionIntervention): Intervention {
  if (iv.kind === 'logitBias') return { ...iv, value: iv.value === 'mask' ? Number.NEGATIVE_INFINITY : iv.value };
  if (iv.kind === 'keyScale') return { ...iv, keys: [...iv.keys] };
  return { ...iv };
}

/** The stored form: −∞ (and anything at or below the kernel's mask level) becomes 'mask'. Other values are kept; the schema checks them. */
export function fromIntervention(iv: Intervention): SessionIntervention {
  if (iv.kind === 'logitBias') return { ...iv, value: iv.value === Number.NEGATIVE_INFINITY || iv.value <= -1e30 ? 'mask' : iv.value };
  if (iv.kind === 'keyScale') return { ...iv, keys: [...iv.keys] };
  return { ...iv };
}

/** A new session with the app's defaults. */
export function newSession(model: SessionModel, prompt: string, now: number, name = 'Untitled session'): Session {
  return {
    version: SESSION_VERSION,
    name,
    created: now,
    updated: now,
    model,
    prompts: [prompt],
    promptIndex: 0,
    bos: null,
    selection: { layer: 0, head: 0, query: null, compare: [] },
    view: { active: 'heatmap', metric: 'firstMass', heatmap: { scale: 'linear', scheme: 'viridis', foldFirst: false, zoom: null } },
  };
}

/** A short label of the model for lists. */
export function sessionModelLabel(m: SessionModel): string {
  if (m.kind === 'bundled') return m.id;
  if (m.kind === 'hub') return `${m.repo}@${m.revision}`;
  return m.name;
}
