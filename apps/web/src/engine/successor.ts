/**
 * The successor panel's engine side (methods.md §5): the OV-circuit score of every head on the GPU, kept per
 * variant (its task blocks stay on the GPU; one head's blocks are read back when the panel shows that
 * head), and the behavioural check of every head, run once per model. Only per-head numbers and one head's
 * task × task logits go to the page.
 */
import {
  analyzeSuccessors,
  NoBehaviourPromptsError,
  type SuccessorAnalysis,
  type SuccessorBehaviourResult,
  successorBehaviour,
  taskReport,
} from '@headscope/analysis';
import type { LoadedModel } from '@headscope/models';
import type { SuccessorBehaviourProgress, SuccessorBehaviourView, SuccessorHeadView, SuccessorOverview, SuccessorVariant } from './protocol.js';

export class SuccessorRunner {
  private analyses = new Map<SuccessorVariant, Promise<SuccessorAnalysis>>();
  /** Per prompts-per-task setting. */
  private behaviourRuns = new Map<number, Promise<SuccessorBehaviourResult>>();

  reset(): void {
    for (const a of this.analyses.values()) a.then((x) => x.circuit.release()).catch(() => undefined);
    this.analyses.clear();
    this.behaviourRuns.clear();
  }

  private analysis(m: LoadedModel, variant: SuccessorVariant): Promise<SuccessorAnalysis> {
    let a = this.analyses.get(variant);
    if (!a) {
      a = analyzeSuccessors(m, { embedding: variant });
      a.catch(() => this.analyses.delete(variant));
      this.analyses.set(variant, a);
    }
    return a;
  }

  /**
   * The check for every head, shared by later calls with the same setting; the call that starts it reports
   * progress and may cancel it (a cancelled run is not kept).
   */
  private behaviourOf(
    m: LoadedModel,
    a: SuccessorAnalysis,
    perTask: number,
    signal?: AbortSignal,
    onProgress?: (p: SuccessorBehaviourProgress) => void,
  ): Promise<SuccessorBehaviourResult> {
    let run = this.behaviourRuns.get(perTask);
    if (!run) {
      const started = successorBehaviour(m, a.tasks, {
        perTask,
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress: (done: number, total: number) => onProgress({ done, total }) } : {}),
      });
      started.catch(() => {
        if (this.behaviourRuns.get(perTask) === started) this.behaviourRuns.delete(perTask);
      });
      this.behaviourRuns.set(perTask, started);
      run = started;
    }
    return run;
  }

  async overview(m: LoadedModel, variant: SuccessorVariant): Promise<SuccessorOverview> {
    const t0 = performance.now();
    const a = await this.analysis(m, variant);
    const { nLayers: L, nHeads: H } = m.config;
    const scores = new Float32Array(L * H);
    let top = a.heads[0]!;
    for (const h of a.heads) {
      scores[h.layer * H + h.head] = h.score;
      if (h.score > top.score) top = h;
    }
    return {
      variant,
      report: taskReport(a.tasks.all),
      tasks: a.tasks.tasks.map((t) => ({
        id: t.id,
        label: t.label,
        total: t.total,
        members: t.members.map((x) => ({ text: x.text, token: x.token })),
        pairs: t.pairs.map(([i, j]) => [i, j] as [number, number]),
      })),
      scores,
      top: { layer: top.layer, head: top.head, score: top.score },
      ms: performance.now() - t0,
    };
  }

  async head(m: LoadedModel, req: { variant: SuccessorVariant; layer: number; head: number }): Promise<SuccessorHeadView> {
    const t0 = performance.now();
    const { layer, head, variant } = req;
    const a = await this.analysis(m, variant);
    const score = a.heads.find((h) => h.layer === layer && h.head === head);
    if (!score) throw new RangeError(`head L${layer}H${head} is outside the model`);
    const blocks = await Promise.all(a.tasks.tasks.map((_, g) => a.circuit.block(layer, head, g)));
    return { variant, layer, head, score: score.score, tasks: score.tasks, blocks, ms: performance.now() - t0 };
  }

  /** The behavioural check of one head; the first call runs it for every head (task sets of the default variant). */
  async behaviour(
    m: LoadedModel,
    req: { layer: number; head: number; perTask: number },
    signal?: AbortSignal,
    onProgress?: (p: SuccessorBehaviourProgress) => void,
  ): Promise<SuccessorBehaviourView> {
    const t0 = performance.now();
    const { layer, head } = req;
    const view: SuccessorBehaviourView = { layer, head, ms: 0 };
    try {
      const b = await this.behaviourOf(m, await this.analysis(m, 'mlp0'), req.perTask, signal, onProgress);
      const i = layer * m.config.nHeads + head;
      const s = b.heads[i];
      if (!s) throw new RangeError(`head L${layer}H${head} is outside the model`);
      view.behaviour = {
        attention: s.attention,
        controlAttention: s.controlAttention,
        successorWins: s.successorWins,
        margin: s.margin,
        controlMargin: s.controlMargin,
        holds: s.holds,
        attentionThreshold: b.attentionThreshold,
        prompts: b.prompts.map((p, k) => ({
          kind: p.kind,
          task: p.task,
          text: p.text,
          itemText: p.itemText,
          successorText: p.successorText,
          ...b.perPrompt[k]![i]!,
        })),
      };
    } catch (e) {
      // The weight score stands without the check (no "," token, too few control words): say why.
      if (!(e instanceof NoBehaviourPromptsError)) throw e;
      view.error = e.message;
    }
    view.ms = performance.now() - t0;
    return view;
  }
}
