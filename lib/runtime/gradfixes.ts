/**
 * Fixes to tfjs 4.22's gradient machinery, so that double backprop (exact Hessian-vector products)
 * is correct and so that the wasm backend can train convolutions and embeddings.
 *
 * Each fix is described in ../shared/research/engine.md (§1.1, §2.1) and proven by a test in
 * test/runtime/gradfixes.test.ts. They are process-global and applied once by `initBackend`.
 *
 * | fix id              | what it repairs                                                               |
 * |---------------------|-------------------------------------------------------------------------------|
 * | `tape-order`        | ops whose gradient reuses a saved *output* (tanh, exp, logSoftmax, pow, max…)  |
 * |                     | were taped after the clone of that output, so second-order terms through them |
 * |                     | were silently dropped (wrong HVPs) or raised "Cannot compute gradient".       |
 * | `zero-grad-compare` | comparison/logical ops had no gradient (used inside Max, where, logSumExp).    |
 * | `pool-grad-grads`   | MaxPoolGrad / AvgPoolGrad / Conv2DBackpropFilter had no gradient themselves.   |
 * | `op-conv-gather`    | Conv2D / Conv2DBackpropInput / GatherV2 gradients rewritten with ops every    |
 * |                     | backend has (wasm lacks Conv2DBackpropFilter and UnsortedSegmentSum kernels); |
 * |                     | Max's mask as (x − y) == 0, bit-identical and ~3× faster for CNNs on wasm.   |
 * | `matmul-transpose`  | BatchMatMul gradient with explicit transposes (wasm's transposed GEMM is ~10× |
 * |                     | slower), and reduction over broadcast batch dimensions.                       |
 *
 * @module
 */
import { tf } from './tf.ts';
import { nativeTransposes } from './blas-kernels.ts';
import { UsageError } from './errors.ts';

/** Names of every fix this module knows, in application order. */
export const ALL_FIXES = [
  'tape-order',
  'zero-grad-compare',
  'pool-grad-grads',
  'op-conv-gather',
  'matmul-transpose',
] as const;
export type GradFix = (typeof ALL_FIXES)[number];

/** Version of the fix set; bump when any gradient formula changes (it changes the bits of results). */
export const GRADFIX_VERSION = 1;

const applied = new Set<GradFix>();

/** The fixes applied so far in this process. */
export function appliedFixes(): GradFix[] {
  return ALL_FIXES.filter((f) => applied.has(f));
}

// ---------------------------------------------------------------------------------------------------
// tape-order

interface TapeNode {
  id: number;
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number; kernelDepth: number };
  runKernelFunc: (params: unknown) => unknown;
  isTapeOn(): boolean;
}

function fixTapeOrder(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.runKernelFunc;
  engine.runKernelFunc = function patchedRunKernelFunc(this: EngineInternals, params: unknown) {
    const tapeOn = this.isTapeOn();
    const tape = tapeOn ? this.state.activeTape : null;
    const before = tape ? tape.length : 0;
    const out = original.call(this, params);
    if (tape && tape === this.state.activeTape && tape.length - before >= 2) {
      // The kernel's own node was pushed last, after the Identity nodes of the tensors it saved.
      // Move it in front of them so tape order matches data flow (clone reads the kernel's output).
      const kernelNode = tape.pop()!;
      tape.splice(before, 0, kernelNode);
    }
    return out;
  };
}

// ---------------------------------------------------------------------------------------------------
// zero-grad-compare

const COMPARISON_KERNELS = [
  'Equal',
  'NotEqual',
  'Greater',
  'Less',
  'LessEqual',
  'LogicalAnd',
  'LogicalOr',
  'LogicalNot',
  'LogicalXor',
];

function fixZeroGradCompare(): void {
  for (const kernelName of COMPARISON_KERNELS) {
    if (tf.getGradient(kernelName) != null) continue;
    const names = kernelName === 'LogicalNot' ? ['x'] : ['a', 'b'];
    tf.registerGradient({
      kernelName,
      inputsToSave: names,
      // Piecewise-constant ops: zero gradient for every input.
      gradFunc: (_dy, saved) =>
        Object.fromEntries(names.map((n, i) => [n, () => tf.zerosLike(saved[i]).toFloat()])),
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// conv helpers (NHWC, dilation 1)

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Pair = number | [number, number];

function pair(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/**
 * Filter gradient of conv2d written with pad/slice/reshape/matMul only (im2col), so it runs on every
 * backend and is itself differentiable.
 * @param x input `[B, H, W, C]`
 * @param dy output gradient `[B, OH, OW, OC]`
 * @param filterShape `[KH, KW, C, OC]`
 * @returns `[KH, KW, C, OC]`
 */
export function conv2dFilterGradOps(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: Pair,
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const [kh, kw, c, oc] = filterShape;
    const [sh, sw] = pair(strides);
    const { top, bottom, left, right } = info.padInfo;
    const [b] = x.shape;
    const oh = info.outHeight;
    const ow = info.outWidth;
    // Pad so that every window and the stride reshape below fit.
    const needH = (kh - 1) + oh * sh;
    const needW = (kw - 1) + ow * sw;
    const hp = x.shape[1] + top + bottom;
    const wp = x.shape[2] + left + right;
    const xp = tf.pad(x, [[0, 0], [top, bottom + Math.max(0, needH - hp)], [left, right + Math.max(0, needW - wp)], [0, 0]]);
    const cols: tf.Tensor4D[] = [];
    // Stride 1: slice a `[b, rows, cols·c]` view, so each copied run is ow·c floats long rather than c
    // (wasm's 4-D slice copies one innermost run at a time). Same values as the 4-D slice.
    const xp3 = sh === 1 && sw === 1 ? tf.reshape(xp, [b, xp.shape[1], xp.shape[2] * c]) : undefined;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        let patch = xp3
          ? (tf.reshape(tf.slice(xp3, [0, i, j * c], [b, oh, ow * c]), [b, oh, ow, c]) as tf.Tensor4D)
          : (tf.slice(xp, [0, i, j, 0], [b, oh * sh, ow * sw, c]) as tf.Tensor4D);
        if (sh !== 1 || sw !== 1) {
          const r = tf.reshape(patch, [b, oh, sh, ow, sw, c]);
          patch = tf.reshape(tf.slice(r, [0, 0, 0, 0, 0, 0], [b, oh, 1, ow, 1, c]), [b, oh, ow, c]);
        }
        cols.push(patch);
      }
    }
    // Patchesᵀ `[kh·kw·c, b·oh·ow]` built by stacking on a leading axis and one transpose: the same
    // values as concatenating on the channel axis and transposing, but wasm's channel-axis concat
    // (and its split gradient) is ~5× slower than a leading-axis concat plus a transpose.
    const stacked = tf.reshape(tf.concat(cols, 0), [kh * kw, b * oh * ow, c]);
    const patchesT = tf.reshape(tf.transpose(stacked, [0, 2, 1]), [kh * kw * c, b * oh * ow]);
    const dy2 = tf.reshape(dy, [b * oh * ow, oc]);
    const dw = tf.matMul(patchesT, dy2);
    return tf.reshape(dw, filterShape) as tf.Tensor4D;
  });
}

function fixPoolGradGrads(): void {
  // Gradient of AvgPoolGrad (linear in dy): avgPool of the incoming gradient.
  tf.registerGradient({
    kernelName: 'AvgPoolGrad',
    inputsToSave: ['input'],
    gradFunc: (ddx, saved, attrs) => {
      const { filterSize, strides, pad } = attrs as unknown as { filterSize: Pair; strides: Pair; pad: Pad };
      const input = saved[0];
      return {
        dy: () => tf.avgPool(ddx as tf.Tensor4D, filterSize, strides, pad as 'same'),
        input: () => tf.zerosLike(input),
      };
    },
  });
  // Gradient of MaxPoolGrad: route the incoming gradient through the argmax positions.
  tf.registerGradient({
    kernelName: 'MaxPoolGrad',
    inputsToSave: ['input', 'output'],
    gradFunc: (ddx, saved, attrs) => {
      const { filterSize, strides, pad } = attrs as unknown as { filterSize: Pair; strides: Pair; pad: Pad };
      const [input, output] = saved;
      return {
        dy: () =>
          tf.tidy(() => {
            const { indexes } = tf.maxPoolWithArgmax(input as tf.Tensor4D, filterSize, strides, pad as 'same', true);
            const flat = tf.reshape(ddx as tf.Tensor, [-1]);
            return tf.reshape(tf.gather(flat, tf.reshape(indexes, [-1])), output.shape);
          }),
        input: () => tf.zerosLike(input),
        output: () => tf.zerosLike(output),
      };
    },
  });
  // Gradient of Conv2DBackpropFilter (bilinear in x and dy), for backends that keep the stock conv gradient.
  tf.registerGradient({
    kernelName: 'Conv2DBackpropFilter',
    inputsToSave: ['x', 'dy'],
    gradFunc: (ddw, saved, attrs) => {
      const { strides, pad, dimRoundingMode } = attrs as unknown as {
        strides: Pair;
        pad: Pad;
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
      return {
        x: () => tf.conv2dTranspose(dy, ddw as tf.Tensor4D, x.shape as [number, number, number, number], strides, pad as 'same', dimRoundingMode),
        dy: () => tf.conv2d(x, ddw as tf.Tensor4D, strides, pad as 'same', 'NHWC', 1, dimRoundingMode),
      };
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// op-conv-gather

function fixOpConvGather(): void {
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as {
        dilations: Pair;
        strides: Pair;
        pad: Pad;
        dataFormat: string;
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      const [d1, d2] = pair(dilations ?? 1);
      if (d1 !== 1 || d2 !== 1) throw new Error(`conv2d gradient: dilations must be 1, got ${dilations}`);
      if (dataFormat !== undefined && dataFormat !== 'NHWC') {
        throw new Error(`conv2d gradient: only NHWC is supported, got ${dataFormat}`);
      }
      return {
        x: () =>
          tf.conv2dTranspose(dy as tf.Tensor4D, filter, x.shape as [number, number, number, number], strides, pad as 'same', dimRoundingMode),
        filter: () =>
          conv2dFilterGradOps(x, dy as tf.Tensor4D, filter.shape as [number, number, number, number], strides, pad, dimRoundingMode),
      };
    },
  });
  tf.registerGradient({
    kernelName: 'Conv2DBackpropInput',
    inputsToSave: ['dy', 'filter'],
    gradFunc: (ddx, saved, attrs) => {
      const [dy, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const { strides, pad, dimRoundingMode } = attrs as unknown as {
        strides: Pair;
        pad: Pad;
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      return {
        dy: () => tf.conv2d(ddx as tf.Tensor4D, filter, strides, pad as 'same', 'NHWC', 1, dimRoundingMode),
        filter: () =>
          conv2dFilterGradOps(ddx as tf.Tensor4D, dy, filter.shape as [number, number, number, number], strides, pad, dimRoundingMode),
      };
    },
  });
  // Max: the same mask as stock (x == y, y broadcast over the reduced axes), computed as
  // (x − y) == 0 on equal shapes. Identical for finite values; wasm's broadcasting Equal is ~20× slower
  // than a broadcasting Sub plus a same-shape Equal, and it dominated CNN gradients (max-pooling).
  tf.registerGradient({
    kernelName: 'Max',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved;
      const axes = tf.util.parseAxisParam((attrs as unknown as { reductionIndices: number | number[] }).reductionIndices, x.shape);
      const keep = tf.backend_util.expandShapeToKeepDim;
      const yk = y.rank < x.rank ? tf.reshape(y, keep(y.shape, axes)) : y;
      const dyk = (dy as tf.Tensor).rank < x.rank ? tf.reshape(dy as tf.Tensor, keep((dy as tf.Tensor).shape, axes)) : (dy as tf.Tensor);
      return {
        x: () => {
          const d = tf.sub(x, yk);
          return tf.mul(dyk, tf.cast(tf.equal(d, tf.zerosLike(d)), dyk.dtype));
        },
      };
    },
  });
  const stockGather = tf.getGradient('GatherV2');
  tf.registerGradient({
    kernelName: 'GatherV2',
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, saved, attrs) => {
      const [x, indices] = saved;
      const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
      if (axis !== 0 || (batchDims ?? 0) !== 0) {
        if (!stockGather) throw new Error('GatherV2 gradient: only axis 0 without batch dims is supported');
        return stockGather.gradFunc(dy, saved, attrs);
      }
      return {
        // Embedding-table gradient as oneHot(ids)ᵀ · dy: a matMul every backend has, and differentiable.
        x: () =>
          tf.tidy(() => {
            const n = indices.size;
            const rows = x.shape[0];
            const inner = x.size / rows;
            const oh = tf.oneHot(tf.reshape(indices, [n]).toInt(), rows);
            const dy2 = tf.reshape(dy as tf.Tensor, [n, inner]);
            // With a native GEMM the transpose is a flag (free); XNNPACK needs it materialised.
            const g = nativeTransposes() ? tf.matMul(oh, dy2, true, false) : tf.matMul(tf.transpose(oh), dy2);
            return tf.reshape(g, x.shape);
          }),
        indices: () => indices,
      };
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// matmul-transpose

function swapLast(t: tf.Tensor): tf.Tensor {
  const r = t.rank;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(t, perm);
}

/** Sums `g` over leading batch dimensions that were broadcast, so it has `shape`. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  let out = g;
  if (lead > 0) out = tf.sum(out, Array.from({ length: lead }, (_, i) => i));
  const axes: number[] = [];
  for (let i = 0; i < shape.length - 2; i++) if (shape[i] === 1 && out.shape[i] !== 1) axes.push(i);
  if (axes.length) out = tf.sum(out, axes, true);
  return tf.reshape(out, shape);
}

function fixMatMulTranspose(): void {
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const g = dy as tf.Tensor;
      const T = swapLast;
      let ga: () => tf.Tensor;
      let gb: () => tf.Tensor;
      if (nativeTransposes()) {
        // A native GEMM reads transposed operands in place: the flags cost nothing there.
        const m = (x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean) => () => tf.matMul(x, y, tx, ty);
        if (!transposeA && !transposeB) [ga, gb] = [m(g, b, false, true), m(a, g, true, false)];
        else if (!transposeA && transposeB) [ga, gb] = [m(g, b, false, false), m(g, a, true, false)];
        else if (transposeA && !transposeB) [ga, gb] = [m(b, g, false, true), m(a, g, false, false)];
        else [ga, gb] = [m(b, g, true, true), m(g, a, true, true)];
      } else if (!transposeA && !transposeB) {
        ga = () => tf.matMul(g, T(b));
        gb = () => tf.matMul(T(a), g);
      } else if (!transposeA && transposeB) {
        ga = () => tf.matMul(g, b);
        gb = () => tf.matMul(T(g), a);
      } else if (transposeA && !transposeB) {
        ga = () => tf.matMul(b, T(g));
        gb = () => tf.matMul(a, g);
      } else {
        ga = () => tf.matMul(T(b), T(g));
        gb = () => tf.matMul(T(g), T(a));
      }
      return { a: () => reduceTo(ga(), a.shape), b: () => reduceTo(gb(), b.shape) };
    },
  });
}

// ---------------------------------------------------------------------------------------------------

const IMPLS: Record<GradFix, () => void> = {
  'tape-order': fixTapeOrder,
  'zero-grad-compare': fixZeroGradCompare,
  'pool-grad-grads': fixPoolGradGrads,
  'op-conv-gather': fixOpConvGather,
  'matmul-transpose': fixMatMulTranspose,
};

/**
 * Applies the given fixes once each (idempotent; the gradient registry is process-global).
 * @param fixes which fixes to apply; defaults to all of them
 * @returns the fixes now active
 */
export function applyGradFixes(fixes: readonly GradFix[] = ALL_FIXES): GradFix[] {
  for (const f of fixes) {
    if (!(f in IMPLS)) throw new UsageError(`unknown gradient fix '${f}'; known: ${ALL_FIXES.join(', ')}`);
    if (applied.has(f)) continue;
    IMPLS[f]();
    applied.add(f);
  }
  return appliedFixes();
}

/** The fixes `initBackend` applies for a backend: all of them except the wasm/cpu rewrites on tensorflow. */
export function defaultFixesFor(backend: string): GradFix[] {
  if (backend === 'tensorflow') return ['tape-order', 'zero-grad-compare', 'pool-grad-grads'];
  return [...ALL_FIXES];
}
