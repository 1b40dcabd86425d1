/** CPU reference for gatedProduct: act(gate) · up in float64, rounded to float32. */
import { activationScalar } from './activation.ref.js';
import type { GateActivation } from './gated-product.js';

export function gatedProductRef(gate: Float32Array, up: Float32Array, act: GateActivation): Float32Array {
  if (gate.length !== up.length) throw new Error(`gatedProductRef: lengths ${gate.length} and ${up.length} differ`);
  const y = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) y[i] = activationScalar(act, gate[i]!) * up[i]!;
  return y;
}
