/** The session's name and save state in the header, and why a link or file did not open. */
import { useSessionUi } from '../state/session-ui.js';

export function SessionStatus() {
  const { name, save, ready } = useSessionUi();
  return (
    <div role="status" aria-label="Session" className="session-status">
      <span className="session-name">{name}</span>{' '}
      <span className="muted">
        {!ready ? 'Opening…' : save.kind === 'saved' ? 'Saved' : save.kind === 'pending' ? 'Saving…' : save.kind === 'idle' ? '' : 'Not saved'}
      </span>
    </div>
  );
}

export function SessionAlerts() {
  const { save, openError } = useSessionUi();
  return (
    <>
      {openError !== null && (
        <div role="alert" aria-label="Session error" className="error session-error">
          <p>
            <strong>Could not open the session.</strong> {openError} Your current session is unchanged.
          </p>
          <button type="button" onClick={() => useSessionUi.setState({ openError: null })}>
            Dismiss
          </button>
        </div>
      )}
      {save.kind === 'error' && (
        <p role="alert" aria-label="Save error" className="error">
          This session could not be saved: {save.message}. It stays open in this tab; use Share to keep a copy.
        </p>
      )}
    </>
  );
}
