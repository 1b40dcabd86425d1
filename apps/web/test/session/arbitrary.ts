/** fast-check arbitraries for valid sessions (every field present in its canonical form). */
import fc from 'fast-check';
import { LIMITS, SESSION_VERSION, type Session, type SessionIntervention, type SessionModel } from '../../src/session/schema.js';

const ident = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
const index = fc.integer({ min: 0, max: LIMITS.index });
/** Finite doubles without −0 (JSON writes −0 as 0). */
const num = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x));
const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength });

export const modelArb: fc.Arbitrary<SessionModel> = fc.oneof(
  fc.record({ kind: fc.constant('bundled' as const), id: ident }),
  fc.record({
    kind: fc.constant('hub' as const),
    repo: fc.tuple(ident, ident).map(([a, b]) => `${a}/${b}`),
    revision: fc.oneof(
      fc.constant('main'),
      fc.stringMatching(/^[0-9a-f]{40}$/),
      ident.filter((r) => !r.includes('..')),
    ),
  }),
  fc.record({
    kind: fc.constant('local' as const),
    name: text(40).filter((s) => s.length > 0),
    sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
    files: fc.array(fc.record({ name: text(30).filter((s) => s.length > 0), size: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) }), {
      minLength: 1,
      maxLength: 4,
    }),
  }),
);

const headOrAll = fc.oneof(index, fc.constant('all' as const));
export const interventionArb: fc.Arbitrary<SessionIntervention> = fc.oneof(
  fc.record({
    kind: fc.constant('logitBias' as const),
    layer: index,
    head: headOrAll,
    key: fc.oneof(fc.integer({ min: 0, max: LIMITS.query }), fc.constant('all' as const)),
    value: fc.oneof(num(-LIMITS.magnitude, LIMITS.magnitude), fc.constant('mask' as const)),
  }),
  fc.record({
    kind: fc.constant('keyScale' as const),
    layer: index,
    head: headOrAll,
    keys: fc.array(fc.integer({ min: 0, max: LIMITS.query }), { maxLength: 8 }),
    beta: num(0, LIMITS.magnitude),
  }),
  fc.record({ kind: fc.constant('headScale' as const), layer: index, head: headOrAll, scale: num(-LIMITS.magnitude, LIMITS.magnitude) }),
);

const scalar = fc.oneof(num(-1e300, 1e300), fc.boolean(), text(20), fc.constant(null));
const detectorsArb = fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,15}$/), fc.oneof(scalar, fc.array(scalar, { maxLength: 4 })), { maxKeys: 5 });

const zoomArb = fc
  .tuple(num(0, 1000), num(0, 1000), num(0, 1000), num(0, 1000))
  .filter(([a, b, c, d]) => a !== b && c !== d)
  .map(([a, b, c, d]) => ({ x0: Math.min(a, b), x1: Math.max(a, b), y0: Math.min(c, d), y1: Math.max(c, d) }));

const time = fc.integer({ min: 0, max: LIMITS.time });

export const sessionArb: fc.Arbitrary<Session> = fc
  .record(
    {
      name: text(40),
      created: time,
      updated: time,
      model: modelArb,
      prompts: fc.array(text(200), { minLength: 1, maxLength: 5 }),
      promptSeed: fc.nat(),
      bos: fc.oneof(fc.boolean(), fc.constant(null)),
      selection: fc.record({
        layer: index,
        head: index,
        query: fc.oneof(fc.integer({ min: 0, max: LIMITS.query }), fc.constant(null)),
        compare: fc.array(fc.record({ layer: index, head: index }), { maxLength: LIMITS.compare }),
      }),
      view: fc.record({
        active: fc.constantFrom('heatmap' as const, 'tokens' as const, 'grid' as const),
        metric: fc.constantFrom('entropy' as const, 'firstMass' as const, 'maxColumn' as const),
        heatmap: fc.record({
          scale: fc.constantFrom('linear' as const, 'log' as const, 'rank' as const),
          scheme: fc.constantFrom('viridis' as const, 'cividis' as const),
          foldFirst: fc.boolean(),
          zoom: fc.oneof(zoomArb, fc.constant(null)),
        }),
      }),
      interventions: fc.array(interventionArb, { maxLength: 4 }),
      detectors: detectorsArb,
    },
    { requiredKeys: ['name', 'created', 'updated', 'model', 'prompts', 'promptSeed', 'bos', 'selection', 'view'] },
  )
  .map(({ promptSeed, ...s }) => ({ version: SESSION_VERSION, ...s, promptIndex: promptSeed % s.prompts.length }) as Session);
