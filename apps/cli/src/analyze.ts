import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type AtlasResult, atlasModelOf, parsePromptFile, resolveSettings, runAtlas } from '@headscope/analysis';
import type { LoadedModel } from '@headscope/models';

/** Short public-domain-style English prompts used when no --prompts file is given. */
export const DEFAULT_PROMPTS = [
  'Once upon a time there was a little girl who lived in a village near the forest. Every morning she walked to the well to fetch water for her mother, and every evening she sat by the fire and listened to the old stories of the hills.',
  'The ship had been at sea for forty days when the captain called the crew together on the deck. He told them that the water was running low, that the wind had failed them, and that they must row in turns through the night.',
  'In the spring the boys went down to the river to fish. Tom carried the rods and Harry carried the basket, and the little dog ran ahead of them barking at every bird that rose out of the long grass.',
  'She opened the letter slowly, for she knew the hand that had written it. It was short, only a few lines, but when she had read it twice she put it down on the table and looked out of the window for a long time.',
];

export interface AnalyzeOptions {
  promptsFile?: string;
  bos?: boolean;
  /** Atlas settings by registry key (max_tokens, probe_n, probe_seed, epsilon, tau, …); checked by the registry. */
  settings: Record<string, unknown>;
  /** Progress lines on stderr. */
  progress?: (line: string) => void;
}

/** Reads a prompt set (.txt one per line, .jsonl "prompt", .csv "prompt" column) with the app's parser. */
export function readPrompts(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(
      `cannot read --prompts ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Give the path of a .txt, .jsonl or .csv file.`,
    );
  }
  return parsePromptFile(basename(file), text).prompts;
}

/** The prompts and checked settings, before any model is loaded (bad input fails fast). */
export function analyzeInputs(options: AnalyzeOptions): { texts: string[]; settings: Record<string, unknown> } {
  return { texts: options.promptsFile ? readPrompts(options.promptsFile) : DEFAULT_PROMPTS, settings: resolveSettings(options.settings) };
}

/** Every detector of the registry over the prompts and the probe (the head atlas), on the GPU reductions. */
export function analyzeModel(model: LoadedModel, options: AnalyzeOptions, inputs = analyzeInputs(options)): Promise<AtlasResult> {
  return runAtlas(atlasModelOf(model, { successorBehaviour: true }), inputs.texts, inputs.settings, {
    ...(options.bos !== undefined ? { bos: options.bos } : {}),
    onProgress: (p) => {
      if (p.done > 0) options.progress?.(`sequence ${p.done}/${p.total}, ${(p.elapsedMs / 1000).toFixed(1)} s, about ${(p.etaMs / 1000).toFixed(1)} s left`);
    },
  });
}
