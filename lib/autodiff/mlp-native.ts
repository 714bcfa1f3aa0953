/**
 * Batched exact HVPs of the MLP family on the host, forward-over-reverse (the R-operator of Pearlmutter 1994),
 * with every matrix product in the native GEMM (runtime/blas.ts) and the elementwise work in one JS pass each.
 *
 * Why: the double-backprop HVP through tfjs replicates the forward and the first backward K times and pays
 * ~350 kernel launches and a tape per call; for the paper's 784-16-16-10 MLP that made the AdamW-influence sweep
 * 5–10× slower than PyTorch (perf-2026-12.md §4). Here the forward and backward run once and only the K
 * directional derivatives are batched, which also halves the FLOPs.
 *
 * Model: z_l = h_l W_l + b_l, h_{l+1} = σ(z_l) (l < L−1), loss L = Σ_i c_i ℓ_i with ℓ_i the softmax cross-entropy of
 * row i of z_{L−1} and c_i = w_i / D. Forward and backward:
 *
 *     δ_{L−1} = c ⊙ (softmax(z_{L−1}) − onehot(y)),   ∇W_l = h_lᵀ δ_l,   ∇b_l = Σ_i δ_l,   δ_{l−1} = (δ_l W_lᵀ) ⊙ σ'(z_{l−1})
 *
 * and their directional derivatives along v = (dW_l, db_l) (R{·} = d/dε at θ + εv):
 *
 *     R{z_l} = R{h_l} W_l + h_l dW_l + db_l,   R{h_{l+1}} = σ'(z_l) ⊙ R{z_l}
 *     R{δ_{L−1}} = c ⊙ (p ⊙ R{z} − p (p·R{z}))  (row-wise, p = softmax)
 *     R{∇W_l} = R{h_l}ᵀ δ_l + h_lᵀ R{δ_l},   R{∇b_l} = Σ_i R{δ_l}
 *     R{δ_{l−1}} = (R{δ_l} W_lᵀ + δ_l dW_lᵀ) ⊙ σ'(z_{l−1}) + (δ_l W_lᵀ) ⊙ σ''(z_{l−1}) ⊙ R{z_{l−1}}
 *
 * so H v = (R{∇W_l}, R{∇b_l}). The Gauss–Newton product G v = Jᵀ H_out J v (`ggn`) is the same pass without the
 * terms that carry the first-order residual δ (R{h_l}ᵀ δ_l, δ_l dW_lᵀ and the σ'' term). Float32 storage, float32 GEMMs, float64 elementwise arithmetic: the same
 * function as mlp-hvp.ts's, not the same bits (tested against it and against central differences of gradients).
 *
 * @module
 */
import type { MlpConfig } from '../models/mlp.ts';
import type { Blas } from '../runtime/blas.ts';

/** σ, σ' and σ'' of the MLP activations, elementwise. */
function activate(kind: MlpConfig['activation'], z: Float32Array, h: Float32Array, d1: Float32Array, d2: Float32Array | null): void {
  const n = z.length;
  if (kind === 'relu') {
    for (let i = 0; i < n; i++) {
      const x = z[i];
      h[i] = x > 0 ? x : 0;
      d1[i] = x > 0 ? 1 : 0;
    }
    return;
  }
  if (kind === 'tanh') {
    for (let i = 0; i < n; i++) {
      const t = Math.tanh(z[i]);
      h[i] = t;
      d1[i] = 1 - t * t;
      if (d2) d2[i] = -2 * t * (1 - t * t);
    }
    return;
  }
  // GELU, tanh form: g = ½x(1 + tanh u), u = c(x + a x³).
  const c = Math.sqrt(2 / Math.PI);
  const a = 0.044715;
  for (let i = 0; i < n; i++) {
    const x = z[i];
    const u = c * (x + a * x * x * x);
    const t = Math.tanh(u);
    const s = 1 - t * t;
    const du = c * (1 + 3 * a * x * x);
    h[i] = 0.5 * x * (1 + t);
    d1[i] = 0.5 * (1 + t) + 0.5 * x * s * du;
    if (d2) d2[i] = s * du + 0.5 * x * (-2 * t * s * du * du + s * 6 * a * c * x);
  }
}

/**
 * H v_k for K directions of an MLP on the host.
 * @param theta `[p]` parameters in spec order (`l{i}.w` `[s_i, s_{i+1}]` row-major, then `l{i}.b`)
 * @param x `[B·s_0]` inputs, row-major; `y` `[B]` class labels
 * @param coef `[B]` c_i = w_i / D
 * @param V `[K·p]` directions, row k = v_k in spec order
 * @param o `ggn: true` gives the Gauss–Newton products G v_k instead
 * @returns `[K·p]`, row k = H v_k (or G v_k)
 */
export function mlpHvpNative(
  blas: Blas,
  config: MlpConfig,
  theta: Float32Array,
  x: Float32Array,
  y: ArrayLike<number>,
  coef: ArrayLike<number>,
  V: ArrayLike<number>,
  K: number,
  o: { ggn?: boolean } = {},
): Float32Array {
  const ggn = o.ggn === true;
  const s = config.sizes;
  const L = s.length - 1;
  const B = y.length;
  const gemm = blas.sgemm;
  // Offsets of W_l and b_l in a parameter vector.
  const offW: number[] = [];
  const offB: number[] = [];
  let p = 0;
  for (let l = 0; l < L; l++) {
    offW.push(p);
    p += s[l] * s[l + 1];
    offB.push(p);
    p += s[l + 1];
  }
  if (theta.length !== p) throw new Error(`mlpHvpNative: θ has ${theta.length} entries, the MLP has ${p}`);
  if (x.length !== B * s[0]) throw new Error(`mlpHvpNative: x has ${x.length} entries, expected ${B}·${s[0]}`);
  if (V.length !== K * p) throw new Error(`mlpHvpNative: V has ${V.length} entries, expected ${K}·${p}`);
  const Vf = V instanceof Float32Array ? V : Float32Array.from(V);
  const W = (l: number) => theta.subarray(offW[l], offB[l]);
  const dW = (k: number, l: number) => Vf.subarray(k * p + offW[l], k * p + offB[l]);

  // Forward: h_l [B, s_l], z_l, σ'(z_l), σ''(z_l).
  const hs: Float32Array[] = [x];
  const d1: Float32Array[] = [];
  const d2: Float32Array[] = [];
  let z = new Float32Array(0);
  const second = config.activation !== 'relu';
  for (let l = 0; l < L; l++) {
    z = new Float32Array(B * s[l + 1]);
    gemm(false, false, B, s[l + 1], s[l], hs[l], s[l], W(l), s[l + 1], z, s[l + 1]);
    const b = theta.subarray(offB[l], offB[l] + s[l + 1]);
    for (let i = 0; i < B; i++) for (let j = 0; j < s[l + 1]; j++) z[i * s[l + 1] + j] += b[j];
    if (l < L - 1) {
      const h = new Float32Array(z.length);
      const a1 = new Float32Array(z.length);
      const a2 = second ? new Float32Array(z.length) : new Float32Array(0);
      activate(config.activation, z, h, a1, second ? a2 : null);
      hs.push(h);
      d1.push(a1);
      d2.push(a2);
    }
  }
  // Softmax and δ_{L−1}.
  const C = s[L];
  const prob = new Float32Array(B * C);
  const delta: Float32Array[] = new Array(L);
  const dl = new Float32Array(B * C);
  for (let i = 0; i < B; i++) {
    let mx = -Infinity;
    for (let j = 0; j < C; j++) mx = Math.max(mx, z[i * C + j]);
    let sum = 0;
    for (let j = 0; j < C; j++) sum += Math.exp(z[i * C + j] - mx);
    for (let j = 0; j < C; j++) {
      const pj = Math.exp(z[i * C + j] - mx) / sum;
      prob[i * C + j] = pj;
      dl[i * C + j] = coef[i] * (pj - (j === y[i] ? 1 : 0));
    }
  }
  delta[L - 1] = dl;
  // Backward: e_{l−1} = δ_l W_lᵀ, δ_{l−1} = e_{l−1} ⊙ σ'(z_{l−1}).
  const e: Float32Array[] = new Array(L);
  for (let l = L - 1; l >= 1; l--) {
    const el = new Float32Array(B * s[l]);
    gemm(false, true, B, s[l], s[l + 1], delta[l], s[l + 1], W(l), s[l + 1], el, s[l]);
    e[l - 1] = el;
    const dprev = new Float32Array(el.length);
    const a1 = d1[l - 1];
    for (let i = 0; i < el.length; i++) dprev[i] = el[i] * a1[i];
    delta[l - 1] = dprev;
  }

  // R-forward, all K directions: Rz_l [K, B, s_{l+1}], Rh_l [K, B, s_l].
  const Rz: Float32Array[] = new Array(L);
  const Rh: (Float32Array | null)[] = [null];
  for (let l = 0; l < L; l++) {
    const n = s[l + 1];
    const r = new Float32Array(K * B * n);
    // h_l dW_l^k, one product per direction (the directions are rows of V).
    for (let k = 0; k < K; k++) gemm(false, false, B, n, s[l], hs[l], s[l], dW(k, l), n, r.subarray(k * B * n), n);
    // + R{h_l} W_l for all directions at once.
    if (Rh[l]) gemm(false, false, K * B, n, s[l], Rh[l]!, s[l], W(l), n, r, n, 1);
    for (let k = 0; k < K; k++) {
      const db = Vf.subarray(k * p + offB[l], k * p + offB[l] + n);
      const rk = r.subarray(k * B * n, (k + 1) * B * n);
      for (let i = 0; i < B; i++) for (let j = 0; j < n; j++) rk[i * n + j] += db[j];
    }
    Rz[l] = r;
    if (l < L - 1) {
      const rh = new Float32Array(r.length);
      const a1 = d1[l];
      const m = B * n;
      for (let k = 0; k < K; k++) for (let i = 0; i < m; i++) rh[k * m + i] = a1[i] * r[k * m + i];
      Rh.push(rh);
    }
  }
  // R{δ_{L−1}} = c ⊙ (p ⊙ Rz − p (p·Rz)).
  let Rd = new Float32Array(K * B * C);
  {
    const r = Rz[L - 1];
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < B; i++) {
        const o = (k * B + i) * C;
        let pr = 0;
        for (let j = 0; j < C; j++) pr += prob[i * C + j] * r[o + j];
        for (let j = 0; j < C; j++) Rd[o + j] = coef[i] * prob[i * C + j] * (r[o + j] - pr);
      }
    }
  }
  const out = new Float32Array(K * p);
  for (let l = L - 1; l >= 0; l--) {
    const n = s[l + 1];
    const m = s[l];
    // R{∇W_l}^k = h_lᵀ R{δ_l}^k (+ R{h_l}^kᵀ δ_l), written straight into row k of the output.
    for (let k = 0; k < K; k++) {
      const o = out.subarray(k * p + offW[l], k * p + offB[l]);
      gemm(true, false, m, n, B, hs[l], m, Rd.subarray(k * B * n, (k + 1) * B * n), n, o, n);
      if (Rh[l] && !ggn) gemm(true, false, m, n, B, Rh[l]!.subarray(k * B * m, (k + 1) * B * m), m, delta[l], n, o, n, 1);
      // R{∇b_l}^k = Σ_i R{δ_l}^k.
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let i = 0; i < B; i++) acc += Rd[(k * B + i) * n + j];
        out[k * p + offB[l] + j] = acc;
      }
    }
    if (l === 0) break;
    // R{δ_{l−1}} = (R{δ_l} W_lᵀ + δ_l dW_lᵀ) ⊙ σ'(z_{l−1}) + e_{l−1} ⊙ σ''(z_{l−1}) ⊙ R{z_{l−1}}.
    const next = new Float32Array(K * B * m);
    gemm(false, true, K * B, m, n, Rd, n, W(l), n, next, m);
    if (!ggn) for (let k = 0; k < K; k++) gemm(false, true, B, m, n, delta[l], n, dW(k, l), n, next.subarray(k * B * m), m, 1);
    const a1 = d1[l - 1];
    const a2 = d2[l - 1];
    const el = e[l - 1];
    const rz = Rz[l - 1];
    const bm = B * m;
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < bm; i++) {
        const q = k * bm + i;
        next[q] = second && !ggn ? next[q] * a1[i] + el[i] * a2[i] * rz[q] : next[q] * a1[i];
      }
    }
    Rd = next;
  }
  return out;
}
