/**
 * CPU references for the activations, in float64 with float32 results. erf is computed independently of
 * the GPU's rational approximation: a positive-term power series for small arguments and the Laplace
 * continued fraction of erfc for large ones, both accurate to ~1e-15.
 */
import type { ActivationOp } from './activation.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erfc(z) for z ≥ 0. Small z: erf(z) = 2/√π · e^{−z²} · Σ_n (2z²)^n z / (1·3·…·(2n+1)) (every term positive,
 * so no cancellation). Large z: erfc(z) = e^{−z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))).
 */
function erfcNonNegative(z: number): number {
  if (z < 3) {
    let term = z;
    let sum = z;
    const q = 2 * z * z;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= q / (2 * n + 1);
      sum += term;
    }
    return 1 - TWO_OVER_SQRT_PI * Math.exp(-z * z) * sum;
  }
  let f = z;
  for (let k = 120; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / (Math.sqrt(Math.PI) * f);
}

/** erf in float64 (absolute error ~1e-15). */
export function erfRef(x: number): number {
  return x >= 0 ? 1 - erfcNonNegative(x) : erfcNonNegative(-x) - 1;
}

/** erfc in float64. */
export function erfcRef(x: number): number {
  return x >= 0 ? erfcNonNegative(x) : 2 - erfcNonNegative(-x);
}

/** One activation in float64. */
export function activationScalar(op: ActivationOp, x: number): number {
  switch (op) {
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case 'gelu_erf':
      // 0.5·x·(1 + erf(x/√2)) written with erfc so that the negative tail keeps its precision.
      return 0.5 * x * erfcRef(-x / Math.SQRT2);
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'relu':
      return Math.max(x, 0);
  }
}

export function activationRef(x: Float32Array, op: ActivationOp): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = activationScalar(op, x[i]!);
  return y;
}
