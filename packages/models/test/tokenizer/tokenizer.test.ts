import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ContextLengthError, InvalidTokenizerError, MissingTokenizerError } from '../../src/errors.js';
import { NodeDirSource } from '../../src/loading/node-dir-source.js';
import { loadTokenizer, tokenizerFromJson } from '../../src/tokenizer/tokenizer.js';

const BABYLLAMA = fileURLToPath(new URL('../../../../../shared/models/babyllama-tok105', import.meta.url));

describe('a real SentencePiece-BPE Llama tokenizer (babyllama-tok105)', () => {
  it('round-trips text and prepends <s> by default, as its post-processor does', async () => {
    const tok = await loadTokenizer(new NodeDirSource(BABYLLAMA), { bosTokenId: 1, eosTokenIds: [2] });
    expect(tok.addBosDefault).toBe(true);
    expect(tok.bosTokenId).toBe(1);
    expect(tok.eosTokenId).toBe(2);
    const text = 'Once upon a time';
    const ids = tok.encode(text);
    expect(ids[0]).toBe(1);
    expect(ids.slice(0, 6)).toEqual([1, 3, 34, 9, 22, 4]); // <s> ▁ O n c e
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(text);
    const plain = tok.encode(text, { addBos: false });
    expect(plain).toEqual(ids.slice(1));
    expect(tok.decode(plain)).toBe(text);
    expect(tok.encode('Once upon a time, there was a little girl named Lily.', { addBos: false }).every((id) => id !== 0)).toBe(true);
  });

  it('names pieces: raw and readable', async () => {
    const tok = await loadTokenizer(new NodeDirSource(BABYLLAMA));
    expect(tok.tokenToString(3)).toBe('\u2581');
    expect(tok.tokenText(3)).toBe(' ');
    expect(tok.tokenText(34)).toBe('O');
    expect(tok.tokenText(1)).toBe('<s>');
    expect(tok.tokenToId('</s>')).toBe(2);
    expect(tok.specialTokenIds).toEqual(new Set([0, 1, 2]));
    expect(tok.vocabSize).toBe(105);
  });

  it('refuses prompts longer than the context with the numbers', async () => {
    const tok = await loadTokenizer(new NodeDirSource(BABYLLAMA), { nCtx: 8 });
    const e = (() => {
      try {
        tok.encode('Once upon a time');
      } catch (x) {
        return x;
      }
    })() as ContextLengthError;
    expect(e).toBeInstanceOf(ContextLengthError);
    expect(e.tokens).toBe(18);
    expect(e.nCtx).toBe(8);
    expect(e.fix).toContain('10 tokens');
    expect(tok.encode('Once upon a time', { checkContext: false }).length).toBe(18);
  });
});

/** GPT-2's byte → stand-in character map, written independently of the code under test. */
function byteChar(b: number): string {
  const keep = (x: number) => (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255);
  if (keep(b)) return String.fromCharCode(b);
  let n = 0;
  for (let x = 0; x < b; x++) if (!keep(x)) n++;
  return String.fromCharCode(256 + n);
}

/** A small but complete byte-level BPE tokenizer.json (GPT-2 style: no BOS added, <|endoftext|> special). */
function byteLevelTokenizer(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[byteChar(b)] = b;
  const merges = ['h e', 'l l', 'he ll', 'hell o', `${byteChar(32)} w`, 'o r', `${byteChar(32)}w or`];
  merges.forEach((m, i) => {
    vocab[m.replace(' ', '')] = 256 + i;
  });
  return {
    version: '1.0',
    added_tokens: [{ id: 300, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, vocab, merges },
  };
}

describe('a byte-level BPE tokenizer', () => {
  it('adds no BOS by default and decodes byte-level pieces to text', () => {
    const tok = tokenizerFromJson(byteLevelTokenizer(), { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' });
    expect(tok.addBosDefault).toBe(false);
    expect(tok.bosTokenId).toBe(300);
    expect(tok.eosTokenIds).toEqual([300]);
    const ids = tok.encode('hello world');
    expect(ids[0]).not.toBe(300);
    expect(tok.decode(ids)).toBe('hello world');
    const w = tok.tokenToId(`${byteChar(32)}wor`)!;
    expect(ids).toContain(w);
    expect(tok.tokenToString(w)).toBe('\u0120wor');
    expect(tok.tokenText(w)).toBe(' wor');
    expect(tok.tokenText(10)).toBe('\n');
    expect(tok.encode('hello', { addBos: true })).toEqual([300, 259]);
  });

  it('follows tokenizer_config add_bos_token', () => {
    const tok = tokenizerFromJson(byteLevelTokenizer(), { bos_token: { content: '<|endoftext|>' }, add_bos_token: true });
    expect(tok.addBosDefault).toBe(true);
    expect(tok.encode('hello')).toEqual([300, 259]);
  });
});

describe('tokenizer errors', () => {
  it('a folder without tokenizer.json → MissingTokenizerError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-tok-'));
    await expect(loadTokenizer(new NodeDirSource(dir))).rejects.toBeInstanceOf(MissingTokenizerError);
  });

  it('a broken tokenizer.json → InvalidTokenizerError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headscope-tok-'));
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
    await expect(loadTokenizer(new NodeDirSource(dir))).rejects.toBeInstanceOf(InvalidTokenizerError);
    expect(() => tokenizerFromJson({ version: '1.0' }, {})).toThrow(InvalidTokenizerError);
  });
});
