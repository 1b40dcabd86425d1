import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseNeedlesJsonl, parseNumberList, type RetrievalReport, reportJson, runRetrieval } from '@headscope/analysis';
import { type RetrievalArgs, UsageError } from './args.js';
import { withModel } from './commands.js';

function readText(flag: string, file: string): string {
  if (!existsSync(file)) throw new UsageError(`--${flag} ${file} does not exist`);
  return readFileSync(file, 'utf8');
}

/** `headscope retrieval`: the needle grid, head scores and (with --mask-top) the masking check; writes --json. */
export async function executeRetrieval(args: RetrievalArgs, progress?: (done: number, total: number) => void): Promise<RetrievalReport> {
  // Read and check every input before the model loads, so bad input fails fast with its own message.
  const needles = args.needlesFile ? parseNeedlesJsonl(readText('needles', args.needlesFile)) : undefined;
  const haystack = args.haystackFile ? readText('haystack', args.haystackFile) : undefined;
  const lengths = args.lengths !== undefined ? parseNumberList(args.lengths, 'lengths') : undefined;
  const depths = args.depths !== undefined ? parseNumberList(args.depths, 'depths') : undefined;
  const report = await withModel({ model: args.model }, (_ctx, model) =>
    runRetrieval(
      model,
      {
        ...(needles ? { needles } : {}),
        ...(haystack !== undefined ? { haystack } : {}),
        ...(lengths ? { lengths } : {}),
        ...(depths ? { depths } : {}),
        ...(args.template !== undefined ? { template: args.template } : {}),
        ...(args.bos !== undefined ? { addBos: args.bos } : {}),
        maxNewTokens: args.maxNewTokens,
        maskTop: args.maskTop,
        seed: args.seed,
      },
      progress ? { onTest: (_r, done, total) => progress(done, total) } : {},
    ),
  );
  if (args.json) writeFileSync(args.json, `${JSON.stringify(reportJson(report), null, 1)}\n`);
  return report;
}

/** One line for the terminal: how many tests counted, accuracy, the best heads, the masking result. */
export function retrievalLine(r: RetrievalReport): string {
  const top = [...r.heads].sort((a, b) => b.retrieval - a.retrieval).slice(0, 5);
  const parts = [
    `${r.counted}/${r.tests.length} tests counted (answer retrieved), NIAH accuracy ${(100 * r.accuracy.overall).toFixed(1)} %`,
    r.counted === 0
      ? 'no test counted: the model never retrieved the answer, so no head can be scored'
      : `top heads ${top.map((h) => `L${h.layer}H${h.head} ${h.retrieval.toFixed(3)}`).join(', ')}`,
  ];
  if (r.masking)
    parts.push(
      `masking top ${r.masking.top.heads.length}: ${(100 * r.masking.top.accuracy).toFixed(1)} %, ${r.masking.random.heads.length} random: ${(100 * r.masking.random.accuracy).toFixed(1)} %`,
    );
  return parts.join('; ');
}
