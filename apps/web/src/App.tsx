/**
 * The workbench. The engine runs in a worker (engine/); engine calls are react-query queries; UI state
 * lives in zustand stores (state/). The page opens with the bundled model and runs an example prompt.
 */
import { useEffect } from 'react';
import { GpuBanner } from './components/GpuBanner.js';
import { HeadGrid } from './components/HeadGrid.js';
import { Heatmap } from './components/Heatmap.js';
import { ModelPicker } from './components/ModelPicker.js';
import { Predictions } from './components/Predictions.js';
import { PromptEditor } from './components/PromptEditor.js';
import { PromptSets } from './components/PromptSets.js';
import { RunBar } from './components/RunBar.js';
import { TokenView } from './components/TokenView.js';
import { modelLabel } from './engine/model-ref.js';
import { useCurrentRun, useGpu, useModelLoad } from './engine/queries.js';
import { usePromptStore } from './state/prompt-store.js';
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

  useEffect(() => {
    if (!info) return;
    fit(info.nLayers, info.nHeads);
    const p = usePromptStore.getState();
    if (!p.submitted) p.submit({ text: p.text, bos: p.bos ?? info.addBos });
  }, [info, fit]);

  const modelName = active ? modelLabel(active.ref) : 'model';
  const running = run.isFetching || encoded.isFetching;

  return (
    <div className="app">
      <header>
        <h1>Headscope</h1>
        <GpuBanner probe={probe} />
      </header>
      <div className="layout">
        <aside>
          <ModelPicker load={load} gpuReady={gpuReady} />
          <PromptEditor model={activeKey} info={info} running={running} />
          <PromptSets defaultBos={info?.addBos ?? false} enabled={activeKey !== null} />
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
            </>
          )}
        </main>
      </div>
    </div>
  );
}
