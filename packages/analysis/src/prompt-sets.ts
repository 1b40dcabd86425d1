/** Prompt sets from files: .txt (one prompt a line), .jsonl (a "prompt" field), .csv (a "prompt" column). */

export interface PromptSet {
  name: string;
  prompts: string[];
}

export class PromptFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
    readonly fix: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'PromptFileError';
  }
}

export function parsePromptFile(name: string, text: string): PromptSet {
  const ext = name.toLowerCase().split('.').pop();
  const body = text.replace(/^\uFEFF/, '');
  let prompts: string[];
  if (ext === 'txt') prompts = body.split(/\r?\n/).filter((l) => l.trim() !== '');
  else if (ext === 'jsonl' || ext === 'ndjson') prompts = parseJsonl(name, body);
  else if (ext === 'csv') prompts = parseCsvPrompts(name, body);
  else
    throw new PromptFileError(
      name,
      `files of type .${ext ?? '?'} are not prompt sets`,
      'Use a .txt (one prompt per line), .jsonl (a "prompt" field) or .csv (a "prompt" column) file.',
    );
  if (prompts.length === 0) throw new PromptFileError(name, 'no prompts were found', 'Put at least one non-empty prompt in the file.');
  return { name, prompts };
}

function parseJsonl(name: string, text: string): string[] {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new PromptFileError(name, `line ${i + 1} is not valid JSON`, 'Write one JSON object per line, e.g. {"prompt": "The cat sat"}.');
    }
    const p = obj && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>)['prompt'] : undefined;
    if (typeof p !== 'string') throw new PromptFileError(name, `line ${i + 1} has no string "prompt" field`, 'Give every line a "prompt" field holding text.');
    if (p.trim() !== '') out.push(p);
  }
  return out;
}

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f !== ''));
}

function parseCsvPrompts(name: string, text: string): string[] {
  const [header, ...rows] = parseCsv(text);
  const col = header?.findIndex((h) => h.trim().toLowerCase() === 'prompt') ?? -1;
  if (col < 0) throw new PromptFileError(name, 'the header has no "prompt" column', 'Add a header row naming a "prompt" column.');
  return rows.map((r) => r[col] ?? '').filter((p) => p.trim() !== '');
}
