/** Uploaded prompt sets (.txt / .jsonl / .csv), each listed for one-click runs. */
import { useState } from 'react';
import { PromptFileError, parsePromptFile } from '../lib/prompt-sets.js';
import { usePromptStore } from '../state/prompt-store.js';
import { useViewStore } from '../state/view-store.js';

export function PromptSets({ defaultBos, enabled }: { defaultBos: boolean; enabled: boolean }) {
  const { sets, addSet, removeSet, setText, submit, bos } = usePromptStore();
  const setQuery = useViewStore((s) => s.setQuery);
  const [errors, setErrors] = useState<string[]>([]);

  const onFiles = async (files: FileList | null) => {
    const errs: string[] = [];
    for (const f of Array.from(files ?? [])) {
      try {
        addSet(parsePromptFile(f.name, await f.text()));
      } catch (e) {
        errs.push(e instanceof PromptFileError ? `${e.message}. ${e.fix}` : String(e));
      }
    }
    setErrors(errs);
  };
  const runPrompt = (p: string) => {
    setText(p);
    setQuery(null);
    submit({ text: p, bos: bos ?? defaultBos });
  };

  return (
    <section className="panel prompt-sets" aria-label="Prompt sets">
      <h2>Prompt sets</h2>
      <label className="file">
        Upload prompt sets (.txt, .jsonl, .csv){' '}
        <input
          type="file"
          accept=".txt,.jsonl,.ndjson,.csv"
          multiple
          onChange={(e) => {
            void onFiles(e.target.files);
            e.target.value = '';
          }}
        />
      </label>
      {errors.map((e) => (
        <p role="alert" className="error" key={e}>
          {e}
        </p>
      ))}
      {sets.map((s) => (
        <details key={s.name} open>
          <summary>
            {s.name} ({s.prompts.length} prompt{s.prompts.length === 1 ? '' : 's'}){' '}
            <button type="button" className="link" onClick={() => removeSet(s.name)} aria-label={`Remove ${s.name}`}>
              remove
            </button>
          </summary>
          <ul aria-label={`Prompts from ${s.name}`} className="prompt-list">
            {s.prompts.slice(0, 500).map((p, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a set may repeat a prompt
              <li key={i}>
                <button type="button" className="prompt-item" disabled={!enabled} onClick={() => runPrompt(p)} title="Run this prompt">
                  {p}
                </button>
              </li>
            ))}
          </ul>
        </details>
      ))}
    </section>
  );
}
