/**
 * Tokenizers through @huggingface/tokenizers, with the BOS policy made explicit: encode() never lets the
 * post-processor add special tokens; it prepends BOS itself when asked (or by the model's default), so the
 * workbench's "prepend BOS" switch means exactly one thing for every model.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { ContextLengthError, InvalidTokenizerError, MissingFileError, MissingTokenizerError } from '../errors.js';
import type { FileSource, ReadOptions } from '../loading/source.js';
import { byteLevelPieceText, sentencePiecePieceText } from './token-text.js';

export interface EncodeOptions {
  /** Prepend BOS; defaults to the model's own policy (`addBosDefault`). */
  addBos?: boolean;
  /** Throw ContextLengthError past the model's context (default true when nCtx is known). */
  checkContext?: boolean;
}

export interface HeadscopeTokenizer {
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The raw vocabulary piece ("▁upon", "Ġthe", "<s>"), as convert_ids_to_tokens gives it. */
  tokenToString(id: number): string | undefined;
  /** The piece as text a person reads (" upon", " the"); special tokens stay as written. */
  tokenText(id: number): string;
  tokenToId(token: string): number | undefined;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  /** Whether this model's own tokenizer prepends BOS (Llama, Mistral: yes; GPT-2, Pythia, Qwen2: no). */
  readonly addBosDefault: boolean;
  readonly specialTokenIds: ReadonlySet<number>;
  /** Vocabulary size including added tokens. */
  readonly vocabSize: number;
  readonly nCtx: number | undefined;
}

export interface TokenizerOptions {
  /** The model's context; encode() checks against it. */
  nCtx?: number;
  /** From config.json: used when tokenizer_config.json names no BOS/EOS. */
  bosTokenId?: number | null;
  eosTokenIds?: readonly number[];
}

type Json = Record<string, unknown>;

/** Reads tokenizer.json (+ tokenizer_config.json when present) from a source. */
export async function loadTokenizer(source: FileSource, options: TokenizerOptions & ReadOptions = {}): Promise<HeadscopeTokenizer> {
  const read = async (file: string): Promise<unknown | undefined> => {
    let bytes: Uint8Array;
    try {
      bytes = await source.read(file, undefined, options.signal ? { signal: options.signal } : undefined);
    } catch (e) {
      if (e instanceof MissingFileError) return undefined;
      throw e;
    }
    try {
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new InvalidTokenizerError(`${file} is not valid JSON (${(e as Error).message})`, { cause: e });
    }
  };
  const tokenizerJson = await read('tokenizer.json');
  if (tokenizerJson === undefined) throw new MissingTokenizerError(source.name);
  return tokenizerFromJson(tokenizerJson, await read('tokenizer_config.json'), options);
}

export function tokenizerFromJson(tokenizerJson: unknown, tokenizerConfig: unknown, options: TokenizerOptions = {}): HeadscopeTokenizer {
  if (!isObject(tokenizerJson) || !isObject(tokenizerJson['model'])) throw new InvalidTokenizerError('it has no "model" object');
  const cfg: Json = isObject(tokenizerConfig) ? tokenizerConfig : {};
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokenizerJson, cfg);
  } catch (e) {
    throw new InvalidTokenizerError((e as Error).message, { cause: e });
  }
  const idOf = (v: unknown): number | undefined => {
    const content = typeof v === 'string' ? v : isObject(v) && typeof v['content'] === 'string' ? v['content'] : undefined;
    return content === undefined ? undefined : tok.token_to_id(content);
  };
  // What the tokenizer's post-processor prepends to a plain text, if anything: that is its BOS policy.
  let probedBos: number | undefined;
  try {
    const plain = tok.encode('a', { add_special_tokens: false }).ids;
    const withSpecial = tok.encode('a', { add_special_tokens: true }).ids;
    probedBos = withSpecial.length > plain.length && withSpecial[0] !== plain[0] ? withSpecial[0] : undefined;
  } catch {
    // A vocabulary that cannot encode "a" says nothing about BOS; tokenizer_config/config.json decide.
  }

  const bosTokenId = idOf(cfg['bos_token']) ?? probedBos ?? options.bosTokenId ?? null;
  const addBosSetting = typeof cfg['add_bos_token'] === 'boolean' ? cfg['add_bos_token'] : probedBos !== undefined;
  const addBosDefault = addBosSetting && bosTokenId !== null;
  const eosFromTokenizer = idOf(cfg['eos_token']);
  const eosTokenIds = [...new Set([...(eosFromTokenizer === undefined ? [] : [eosFromTokenizer]), ...(options.eosTokenIds ?? [])])];
  const specialTokenIds = new Set([...tok.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id));
  const byteLevel = usesByteLevel(tokenizerJson);
  const nCtx = options.nCtx;

  return {
    encode(text, o = {}) {
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      if ((o.addBos ?? addBosDefault) && bosTokenId !== null) ids.unshift(bosTokenId);
      if (nCtx !== undefined && o.checkContext !== false && ids.length > nCtx) throw new ContextLengthError(ids.length, nCtx);
      return ids;
    },
    decode: (ids, o = {}) => tok.decode([...ids], { skip_special_tokens: o.skipSpecialTokens ?? false }),
    tokenToString: (id) => tok.id_to_token(id),
    tokenText(id) {
      const piece = tok.id_to_token(id);
      if (piece === undefined) return '';
      if (specialTokenIds.has(id)) return piece;
      return byteLevel ? byteLevelPieceText(piece) : sentencePiecePieceText(piece);
    },
    tokenToId: (token) => tok.token_to_id(token),
    bosTokenId,
    eosTokenId: eosTokenIds[0] ?? null,
    eosTokenIds,
    addBosDefault,
    specialTokenIds,
    vocabSize: tok.get_vocab(true).size,
    nCtx,
  };
}

/** Byte-level BPE (GPT-2, Pythia, Llama-3, Qwen2) writes bytes as stand-in characters; SentencePiece does not. */
function usesByteLevel(json: Json): boolean {
  const hasByteLevel = (v: unknown): boolean => {
    if (!isObject(v)) return false;
    if (v['type'] === 'ByteLevel') return true;
    const list = v['decoders'] ?? v['pretokenizers'];
    return Array.isArray(list) && list.some(hasByteLevel);
  };
  return hasByteLevel(json['decoder']) || hasByteLevel(json['pre_tokenizer']);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
