/**
 * Share: the session as a link (copy it, or select its text) or, when the link would be too long, as a
 * `.headscope.json` download; and opening a session file or a pasted link. Errors show in the page's alert.
 */
import { type ChangeEvent, useEffect, useRef, useState } from 'react';
import { download } from '../lib/export.js';
import { shareOffer } from '../session/codec.js';
import { currentSession, openFileText, openLink } from '../session/controller.js';
import { useSessionUi } from '../state/session-ui.js';

type Offer = Awaited<ReturnType<typeof shareOffer>>;

export function ShareDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [offer, setOffer] = useState<Offer | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [pasted, setPasted] = useState('');
  const linkBox = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (offer?.kind === 'link') linkBox.current?.focus();
  }, [offer]);

  const open = async () => {
    setCopied(null);
    setOffer(null);
    dialog.current?.showModal();
    setOffer(await shareOffer(currentSession(), location.href));
  };
  const close = () => dialog.current?.close();
  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('Copied the link.');
    } catch {
      setCopied('Could not copy here: select the link above and copy it.');
    }
  };
  const openFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    close();
    await openFileText(await file.text());
  };

  return (
    <>
      <button type="button" onClick={() => void open()} aria-haspopup="dialog">
        Share
      </button>
      <dialog ref={dialog} className="share" aria-labelledby="share-title">
        <h2 id="share-title">Share this session</h2>
        {!offer && <p aria-live="polite">Preparing the link…</p>}
        {offer?.kind === 'link' && (
          <div className="row">
            <input
              ref={linkBox}
              type="text"
              readOnly
              aria-label="Share link"
              className="share-link"
              value={offer.url}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" className="primary" onClick={() => void copy(offer.url)}>
              Copy
            </button>
          </div>
        )}
        {offer?.kind === 'file' && (
          <div>
            <p>This session is too large for a link. Share it as a file; the other person opens it with “Open session file”.</p>
            <button type="button" className="primary" onClick={() => download(new Blob([offer.text], { type: 'application/json' }), offer.name)}>
              Download {offer.name}
            </button>
          </div>
        )}
        <p className="muted" aria-live="polite">
          {copied ?? 'The link holds the whole session (model, prompt, selection, view); nothing is uploaded.'}
        </p>
        <h3>Open a session</h3>
        <label className="file">
          Open session file <input type="file" accept=".json,application/json" onChange={(e) => void openFile(e)} />
        </label>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            close();
            void openLink(pasted).then((ok) => ok && setPasted(''));
          }}
        >
          <label>
            Open a shared link <input type="text" value={pasted} onChange={(e) => setPasted(e.target.value)} spellCheck={false} />
          </label>
          <button type="submit" disabled={pasted.trim() === ''}>
            Open
          </button>
        </form>
        <div className="row">
          <button type="button" onClick={close}>
            Close
          </button>
        </div>
      </dialog>
    </>
  );
}

/** Dropping a `.headscope.json` file anywhere on the page (other than a drop target of its own) opens it. */
export function useSessionFileDrop(): void {
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (!e.defaultPrevented && e.dataTransfer?.types.includes('Files')) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      if (e.defaultPrevented || !e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      const file = Array.from(e.dataTransfer.files).find((f) => f.name.endsWith('.json'));
      if (file) void file.text().then(openFileText);
      else useSessionUi.setState({ openError: 'Drop a .headscope.json session file here (model files go on the model panel’s drop area).' });
    };
    addEventListener('dragover', over);
    addEventListener('drop', drop);
    return () => {
      removeEventListener('dragover', over);
      removeEventListener('drop', drop);
    };
  }, []);
}
