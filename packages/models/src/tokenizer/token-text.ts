/**
 * Readable text of a single vocabulary piece, for token strips and heatmap labels. decode([id]) is not
 * enough: SentencePiece decoders strip the leading space of a lone piece, and byte-level pieces ("Ġthe")
 * encode bytes as stand-in characters.
 */

let unicodeToByte: Map<string, number> | undefined;

/**
 * GPT-2's byte-level alphabet (the character that stands for each byte 0..255): printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves;
 * the remaining 68 bytes, in increasing order, are written as the code points 256, 257, ….
 */
export function byteLevelAlphabet(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
}

function byteLevelTable(): Map<string, number> {
  unicodeToByte ??= new Map(byteLevelAlphabet().map((ch, b) => [ch, b]));
  return unicodeToByte;
}

export function byteLevelPieceText(piece: string): string {
  const table = byteLevelTable();
  const bytes: number[] = [];
  for (const ch of piece) {
    const b = table.get(ch);
    if (b === undefined) return piece; // not a byte-level piece (e.g. an added token)
    bytes.push(b);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(new Uint8Array(bytes));
}

/** SentencePiece pieces: "▁" is a space; "<0x0A>" byte-fallback pieces become the byte when it is ASCII. */
export function sentencePiecePieceText(piece: string): string {
  const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
  if (m) {
    const b = Number.parseInt(m[1]!, 16);
    return b < 0x80 ? String.fromCharCode(b) : piece;
  }
  return piece.replaceAll('\u2581', ' ');
}
