/** The engine in Node (Dawn): the reference the browser's numbers are compared with. */
import { loadModel } from '../../packages/models/src/index.js';
import { NodeDirSource } from '../../packages/models/src/node.js';
import { createNodeContext } from '../../packages/wgpu-kernels/src/node.js';

export interface ReferenceRun {
  ids: number[];
  nLayers: number;
  nHeads: number;
  /** head(layer, head) → row-major [T, T]. */
  heads: Map<string, Float32Array>;
}

/** Encodes `text` (BOS by the model's default unless given) and returns every head's attention. */
export async function referenceRun(modelDir: string, text: string, bos?: boolean): Promise<ReferenceRun> {
  const ctx = await createNodeContext();
  try {
    const model = await loadModel(ctx, new NodeDirSource(modelDir));
    try {
      const ids = model.encode(text, bos === undefined ? {} : { bos });
      const { logits, attention } = model.run(ids);
      const heads = new Map<string, Float32Array>();
      for (let l = 0; l < model.config.nLayers; l++) for (let h = 0; h < model.config.nHeads; h++) heads.set(`${l}:${h}`, await attention.head(l, h));
      attention.release();
      ctx.release(logits);
      return { ids, nLayers: model.config.nLayers, nHeads: model.config.nHeads, heads };
    } finally {
      model.dispose();
    }
  } finally {
    ctx.destroy();
  }
}

/** Token count of `text` under the model's tokenizer (BOS by default). */
export async function tokenCount(modelDir: string, text: string): Promise<number> {
  const { loadTokenizer } = await import('../../packages/models/src/tokenizer/tokenizer.js');
  const tok = await loadTokenizer(new NodeDirSource(modelDir));
  return tok.encode(text, { checkContext: false }).length;
}
