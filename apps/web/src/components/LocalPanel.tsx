/** A model from disk: drop a folder or its files (config.json, tokenizer.json, *.safetensors), or pick them. */
import { type DragEvent, useEffect, useRef, useState } from 'react';
import type { ModelRef } from '../engine/protocol.js';
import { useInspect } from '../engine/queries.js';
import { formatBytes } from '../lib/format.js';
import { useModelStore } from '../state/model-store.js';
import { ModelFacts } from './ModelFacts.js';

/** The files of dropped items, descending one level into dropped folders. */
async function droppedFiles(e: DragEvent): Promise<{ files: File[]; folder: string | null }> {
  const entries = Array.from(e.dataTransfer.items, (i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
  const files: File[] = [];
  let folder: string | null = null;
  const fileOf = (entry: FileSystemFileEntry) => new Promise<File>((res, rej) => entry.file(res, rej));
  for (const entry of entries) {
    if (entry.isFile) files.push(await fileOf(entry as FileSystemFileEntry));
    else if (entry.isDirectory) {
      folder ??= entry.name;
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const b of batch) if (b.isFile) files.push(await fileOf(b as FileSystemFileEntry));
      }
    }
  }
  if (!entries.length) files.push(...Array.from(e.dataTransfer.files));
  return { files, folder };
}

export function LocalPanel({ disabled }: { disabled: boolean }) {
  const select = useModelStore((s) => s.select);
  const [picked, setPicked] = useState<ModelRef | null>(null);
  const [over, setOver] = useState(false);
  const info = useInspect(picked);
  const folderInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    folderInput.current?.setAttribute('webkitdirectory', '');
  }, []);
  const take = (files: File[], folder: string | null) => {
    if (!files.length) return;
    const rel = files[0]?.webkitRelativePath;
    const name = folder ?? (rel ? rel.split('/')[0] : null) ?? 'the selected files';
    setPicked({ kind: 'local', name, files });
  };
  return (
    <div className="local">
      {/* biome-ignore lint/a11y/noStaticElementInteractions: drop target; the file inputs below are the keyboard path */}
      <div
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void droppedFiles(e).then(({ files, folder }) => take(files, folder));
        }}
      >
        Drop a model folder or its files here
      </div>
      <label className="file">
        Choose model files <input type="file" multiple disabled={disabled} onChange={(e) => take(Array.from(e.target.files ?? []), null)} />
      </label>
      <label className="file">
        Choose a model folder{' '}
        <input ref={folderInput} type="file" multiple disabled={disabled} onChange={(e) => take(Array.from(e.target.files ?? []), null)} />
      </label>
      {picked?.kind === 'local' && (
        <p className="muted">
          {picked.name}: {picked.files.length} files, {formatBytes(picked.files.reduce((s, f) => s + f.size, 0))}
        </p>
      )}
      {info.isFetching && <p aria-live="polite">Reading the files…</p>}
      {info.isError && (
        <p role="alert" className="error">
          {info.error.message}
        </p>
      )}
      {info.data && picked && (
        <>
          <ModelFacts m={info.data} />
          <button type="button" className="primary" disabled={disabled || !info.data.fits.ok} onClick={() => select(picked)}>
            Load these files
          </button>
        </>
      )}
    </div>
  );
}
