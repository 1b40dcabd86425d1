/**
 * Turns any parsed JSON into a current session: old versions migrate step by step, a newer version is a
 * typed error, anything else is checked against the schema (with the path of the first problem).
 */
import { z } from 'zod';
import { type SessionDecodeError, type SessionPath, type SessionResult, sessionErrors } from './errors.js';
import { LIMITS, SESSION_VERSION, type Session, SessionSchema } from './schema.js';

/**
 * Version 1 (the first sketch): one prompt, the model as a `bundled:<id>` / `hub:<owner/name>[@rev]` string,
 * flat selection and heatmap settings, and one `savedAt` time.
 */
export const SessionV1Schema = z.object({
  version: z.literal(1),
  name: z.string().max(LIMITS.nameChars).optional(),
  model: z.string().max(400),
  prompt: z.string().max(LIMITS.promptChars),
  bos: z.boolean().optional(),
  layer: z.int().min(0).max(LIMITS.index),
  head: z.int().min(0).max(LIMITS.index),
  query: z.int().min(0).max(LIMITS.query).nullable().optional(),
  scale: z.enum(['linear', 'log', 'rank']).optional(),
  scheme: z.enum(['viridis', 'cividis']).optional(),
  foldFirst: z.boolean().optional(),
  savedAt: z.int().min(0).max(LIMITS.time),
});
export type SessionV1 = z.infer<typeof SessionV1Schema>;

/** v1 → v2. The result is checked against the v2 schema afterwards (a bad model string fails there, at `model`). */
export function migrateV1(v1: SessionV1): unknown {
  const bundled = /^bundled:(.+)$/.exec(v1.model);
  const hub = /^hub:([^@]+)(?:@(.+))?$/.exec(v1.model);
  const model = bundled ? { kind: 'bundled', id: bundled[1] } : hub ? { kind: 'hub', repo: hub[1], revision: hub[2] ?? 'main' } : { kind: v1.model };
  return {
    version: 2,
    name: v1.name ?? 'Untitled session',
    created: v1.savedAt,
    updated: v1.savedAt,
    model,
    prompts: [v1.prompt],
    promptIndex: 0,
    bos: v1.bos ?? null,
    selection: { layer: v1.layer, head: v1.head, query: v1.query ?? null, compare: [] },
    view: {
      active: 'heatmap',
      metric: 'firstMass',
      heatmap: { scale: v1.scale ?? 'linear', scheme: v1.scheme ?? 'viridis', foldFirst: v1.foldFirst ?? false, zoom: null },
    },
  };
}

/** Version 2: the current layout without the calibration panel (format 3 only adds `calibration`, optional). */
export const SessionV2Schema = z.looseObject({ version: z.literal(2) });

/** v2 → v3: nothing to convert; the calibration panel starts off. The result is checked against the v3 schema. */
export function migrateV2(v2: z.infer<typeof SessionV2Schema>): unknown {
  return { ...v2, version: 3 };
}

interface Step {
  schema: z.ZodType;
  up(old: never): unknown;
}

/** `MIGRATIONS[v]` brings version v to v + 1. */
const MIGRATIONS: Record<number, Step> = {
  1: { schema: SessionV1Schema, up: migrateV1 as (old: never) => unknown },
  2: { schema: SessionV2Schema, up: migrateV2 as (old: never) => unknown },
};

const pathOf = (p: readonly PropertyKey[]): SessionPath => p.map((k) => (typeof k === 'number' ? k : String(k)));

function schemaError(error: z.ZodError): SessionDecodeError {
  return sessionErrors.schema(error.issues.map((i) => ({ path: pathOf(i.path), message: i.message })));
}

/** Validates (and migrates) parsed JSON. Never throws. */
export function parseSession(raw: unknown): SessionResult<Session> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, error: sessionErrors.schema([{ path: [], message: 'expected an object' }]) };
  const version = (raw as { version?: unknown }).version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
    return { ok: false, error: sessionErrors.schema([{ path: ['version'], message: 'expected a session format number' }]) };
  if (version > SESSION_VERSION) return { ok: false, error: sessionErrors.futureVersion(version, SESSION_VERSION) };
  let data: unknown = raw;
  for (let v = version; v < SESSION_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (!step) return { ok: false, error: sessionErrors.schema([{ path: ['version'], message: `session format ${v} is no longer supported` }]) };
    const old = step.schema.safeParse(data);
    if (!old.success) return { ok: false, error: schemaError(old.error) };
    try {
      data = step.up(old.data as never);
    } catch {
      return { ok: false, error: sessionErrors.schema([{ path: [], message: `could not migrate from format ${v}` }]) };
    }
  }
  const parsed = SessionSchema.safeParse(data);
  return parsed.success ? { ok: true, session: parsed.data } : { ok: false, error: schemaError(parsed.error) };
}
