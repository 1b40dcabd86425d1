/**
 * The workbench. The engine runs in a worker (engine/); engine calls are react-query queries; UI state
 * lives in zustand stores (state/). The page opens with the bundled model and runs an example prompt.
 */
import { useEffect } from 'react';
import { AtlasView } from './components/AtlasView.js';
import { CalibrationPanel } from './components/CalibrationPanel.js';
import { GpuBanner } from './components/GpuBanner.js';
import { HeadGrid } from './components/HeadGrid.js';
import { Heatmap } from './components/Heatmap.js';
import { LocalSessionFiles } from './components/LocalSessionFiles.js';
import { ModelPicker } from './components/ModelPicker.js';
import { Predictions } from './components/Predictions.js';
import { PromptEditor } from './components/PromptEditor.js';
import { PromptSets } from './components/PromptSets.js';
import { RetrievalLab } from './components/RetrievalLab.js';
import { RunBar } from './components/RunBar.js';
import { SessionList } from './components/SessionList.js';
import { SessionAlerts, SessionStatus } from './components/SessionStatus.js';
import { ShareDialog, useSessionFileDrop } from './components/ShareDialog.js';
import { SuccessorPanel } from './components/SuccessorPanel.js';
import { TokenView } from './components/TokenView.js';
import { modelLabel } from './engine/model-ref.js';
import { useCurrentRun, useGpu, useModelLoad } from './engine/queries.js';
import { applyPendingSelection } from './session/app-state.js';
import { startSessions } from './session/controller.js';
import { usePromptStore } from './state/prompt-store.js';
import { useSessionUi } from './state/session-ui.js';
import { useViewStore } from './state/view-store.js';

export function App() {
  const probe = useGpu();
  const gpuReady = probe.data?.ok === true;
  const device = probe.data?.ok && probe.data.backend === 'cpu' ? 'CPU' : 'GPU';
  const load = useModelLoad(gpuReady);
  const current = useCurrentRun();
  const { active, run, ref, tokens, ids, encoded } = current;
  const submitted = usePromptStore((s) => s.submitted);
  const fit = useViewStore((s) => s.fit);
  const activeKey = active?.key ?? null;
  const info = active?.info ?? null;
  const opened = useSessionUi((s) => s.opened);
  const query = useViewStore((s) => s.query);
  const setQuery = useViewStore((s) => s.setQuery);
  const runTokens = ref?.run.tokens ?? null;

  useEffect(() => {
    void startSessions();
  }, []);
  useSessionFileDrop();

  useEffect(() => {
    if (!info) return;
    fit(info.nLayers, info.nHeads);
    applyPendingSelection(info.nLayers, info.nHeads, null);
    const p = usePromptStore.getState();
    if (!p.submitted) p.submit({ text: p.text, bos: p.bos ?? info.addBos });
  }, [info, fit]);

  // A query position from a session that the run does not have falls back to the last token.
  useEffect(() => {
    if (runTokens !== null && query !== null && query >= runTokens) setQuery(null);
  }, [runTokens, query, setQuery]);

  const modelName = active ? modelLabel(active.ref) : 'model';
  const running = run.isFetching || encoded.isFetching;

  return (
    <div className="app">
      <header>
        <h1>Headscope</h1>
        <GpuBanner probe={probe} />
        <SessionStatus />
        <ShareDialog />
      </header>
      <SessionAlerts />
      <div className="layout">
        <aside>
          <LocalSessionFiles />
          <ModelPicker key={opened} load={load} gpuReady={gpuReady} />
          <PromptEditor model={activeKey} info={info} running={running} />
          <PromptSets defaultBos={info?.addBos ?? false} enabled={activeKey !== null} />
          <SessionList />
        </aside>
        <main>
          {!submitted && !active && <p className="muted">The views appear once a model is loaded and a prompt has run.</p>}
          {(run.isError || encoded.isError) && (
            <p role="alert" className="error">
              The run failed: {(run.error ?? encoded.error)?.message}
            </p>
          )}
          {running && <p aria-live="polite">Running the prompt on the {device}…</p>}
          {ref && (
            <>
              <RunBar run={ref} modelName={modelName} />
              <div className="views">
                <HeadGrid run={ref.run} model={modelName} />
                <Heatmap run={ref} tokens={tokens} ids={ids} model={modelName} />
              </div>
              <div className="views">
                <TokenView run={ref} tokens={tokens} />
                <Predictions run={ref} tokens={tokens} />
              </div>
              {info && <CalibrationPanel model={ref.model} ids={ids} nLayers={info.nLayers} nHeads={info.nHeads} />}
              <SuccessorPanel model={ref.model} modelName={modelName} />
            </>
          )}
          {activeKey && info && <RetrievalLab key={activeKey} model={activeKey} modelName={modelName} info={info} />}
          {active && info && <AtlasView model={active.key} modelName={modelName} info={info} />}
        </main>
      </div>
    </div>
  );
}
