#!/usr/bin/env node
/**
 * headscope CLI: the engine in Node (Dawn). `run` writes logits and every layer's attention to a
 * safetensors file; `generate` prints a continuation. Any failure: exit 1 with one line on stderr.
 */
import { writeFileSync } from 'node:fs';
import { type Command, parseCommand, USAGE, UsageError } from './args.js';
import { executeAnalyze, executeGenerate, executeRun } from './commands.js';

async function main(argv: readonly string[]): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`headscope: ${e.message} (see: headscope --help)\n`);
      return 2;
    }
    throw e;
  }
  if (cmd.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (cmd.command === 'run') {
    const { summary, file } = await executeRun(cmd);
    writeFileSync(cmd.out, file);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  if (cmd.command === 'analyze') {
    process.stdout.write(`${JSON.stringify(await executeAnalyze(cmd), null, 2)}\n`);
    return 0;
  }
  const { text } = await executeGenerate(cmd);
  process.stdout.write(`${text}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // One line that says what is wrong (typed errors carry the fix in their message).
    const msg = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
    process.stderr.write(`headscope: ${msg.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(1);
  },
);
