#!/usr/bin/env node
/**
 * headscope CLI: the engine in Node (Dawn). `run` writes logits and every layer's attention to a
 * safetensors file; `generate` prints a continuation. Any failure: exit 1 with one line on stderr.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { atlasHeadsCsv, atlasJson } from '@headscope/analysis';
import { type Command, parseCommand, USAGE, UsageError } from './args.js';
import { executeCalibrate } from './calibrate.js';
import { executeAnalyze, executeGenerate, executeRun } from './commands.js';
import { executeRetrieval, retrievalLine } from './retrieval.js';

/** Writes in slices: one fs write takes at most 2 GiB − 1 bytes, and all maps of a 0.6B model at 1,024 tokens are 2.5 GB. */
function writeLarge(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    for (let o = 0; o < bytes.length; ) o += writeSync(fd, bytes, o, Math.min(bytes.length - o, 1 << 30));
  } finally {
    closeSync(fd);
  }
}

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
    writeLarge(cmd.out, file);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  if (cmd.command === 'calibrate') {
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    let last = 0;
    let lastPhase = '';
    const report = await executeCalibrate(
      cmd,
      (p) => {
        const now = Date.now();
        // At most a line a second, but every phase's first pass and the last pass always print, so each
        // phase shows up however fast the passes run.
        if (now - last < 1000 && p.done < p.total && p.phase === lastPhase) return;
        last = now;
        lastPhase = p.phase;
        process.stderr.write(`${p.phase}: ${p.done}/${p.total} forward passes\n`);
      },
      abort.signal,
    );
    for (const pr of report.problems) process.stderr.write(`headscope: task line ${pr.line} skipped: ${pr.message}\n`);
    if (cmd.json) writeFileSync(cmd.json, `${JSON.stringify(report, null, 2)}\n`);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const row = (name: string, s: { accuracy: number; validFormat: number; n: number }) =>
      `${name} ${pct(s.accuracy)} (valid format ${pct(s.validFormat)}, n=${s.n})`;
    process.stdout.write(
      `${[
        `${report.method} on ${report.task}: heads ${report.heads || '(none kept)'}${report.gamma !== undefined ? `, γ = ${report.gamma}` : ''}`,
        `  choose split:   before ${row('', report.before.choose)}  after ${row('', report.after.choose)}`,
        `  held-out split: before ${row('', report.before.heldOut)}  after ${row('', report.after.heldOut)}`,
        `  ${report.seconds.toFixed(1)} s in all, ${report.secondsPerHead.toFixed(2)} s per head`,
      ].join('\n')}\n`,
    );
    return 0;
  }
  if (cmd.command === 'analyze') {
    const start = performance.now();
    const result = await executeAnalyze({ ...cmd, progress: (line) => process.stderr.isTTY && process.stderr.write(`\r${line}   `) });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const seconds = (performance.now() - start) / 1000;
    const json = `${JSON.stringify(atlasJson(result), null, 2)}\n`;
    if (cmd.json) writeFileSync(cmd.json, json);
    if (cmd.csv) writeFileSync(cmd.csv, atlasHeadsCsv(result));
    if (!cmd.json && !cmd.csv) {
      // The JSON on stdout is the whole answer (stderr stays empty for scripts that check it).
      process.stdout.write(json);
      return 0;
    }
    const b = result.bytes;
    const kb = (x: number) => `${(x / 1024).toFixed(1)} KiB`;
    process.stderr.write(
      `headscope: ${result.prompts} prompts (${result.cut} cut to ${result.settings['max_tokens']} tokens) + probe in ${seconds.toFixed(1)} s; ` +
        `sink rate ${result.sinkRate.rate.toFixed(1)} %; read back ${kb(b.readBack / b.sequences)} per sequence of ${kb(b.captured / b.sequences)} captured\n`,
    );
    process.stdout.write(`${[cmd.json, cmd.csv].filter(Boolean).join(', ')} written\n`);
    return 0;
  }
  if (cmd.command === 'retrieval') {
    const report = await executeRetrieval(cmd, (done, total) => process.stderr.write(`\rretrieval: test ${done}/${total}`));
    process.stderr.write('\n');
    process.stdout.write(`${retrievalLine(report)}\n`);
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
    const fix = e instanceof Error && 'fix' in e && typeof e.fix === 'string' ? e.fix : '';
    const text = e instanceof Error ? (fix && !e.message.includes(fix) ? `${e.message}. ${fix}` : e.message) : '';
    const msg = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${text}` : String(e);
    process.stderr.write(`headscope: ${msg.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(1);
  },
);
