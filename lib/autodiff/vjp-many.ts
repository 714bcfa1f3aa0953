/**
 * Several vector–Jacobian products of one taped function: y = f(xs) is computed and taped once, then the tape is
 * walked backwards once per cotangent. tfjs's `engine.gradients` runs and tapes f for every call, so K HVPs by
 * double backprop pay the forward pass and the inner backward pass K times; here they are paid once and each
 * further direction costs only the backward pass through the taped gradient (≈ 1 gradient instead of ≈ 2).
 *
 * The backward walk is tfjs-core's (`getFilteredNodesXToY` / `backpropagateGradients` in tfjs-core/src/tape.ts,
 * Apache-2.0), unchanged, so each product has the bits that `engine.gradients(f, xs, dy)` gives for that dy.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T>(name: string, f: () => T): T;
  tidy<T>(f: () => T): T;
}

/** The taped nodes on a path from `xs` to `y`, inputs pruned to those that depend on `xs` (tfjs-core tape.ts). */
function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX: Record<number, boolean> = {};
  const nodeFromX: Record<number, boolean> = {};
  for (const x of xs) fromX[x.id] = true;
  for (const node of tape) {
    for (const name in node.inputs) {
      if (fromX[node.inputs[name].id]) {
        node.outputs.forEach((o) => (fromX[o.id] = true));
        nodeFromX[node.id] = true;
        break;
      }
    }
  }
  const toY: Record<number, boolean> = { [y.id]: true };
  const nodeToY: Record<number, boolean> = {};
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY[o.id])) {
      for (const name in node.inputs) {
        toY[node.inputs[name].id] = true;
        nodeToY[node.id] = true;
      }
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!(nodeFromX[node.id] && nodeToY[node.id])) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) if (fromX[node.inputs[name].id]) inputs[name] = node.inputs[name];
    out.push({ ...node, inputs, outputs: node.outputs });
  }
  return out;
}

/** One backward walk from `seed` (the gradient map, mutated), as tfjs-core's `backpropagateGradients`. */
function backprop(grads: Record<number, tf.Tensor>, nodes: TapeNode[], tidy: (f: () => tf.Tensor) => tf.Tensor): void {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const dys = node.outputs.map((o) => grads[o.id] ?? null);
    if (!node.gradient) throw new Error(`vjpMany: no gradient function for ${node.kernelName}`);
    const inputGrads = node.gradient(dys);
    for (const name in node.inputs) {
      if (!(name in inputGrads)) throw new Error(`vjpMany: cannot backprop through input ${name} of ${node.kernelName}`);
      const dx = tidy(() => inputGrads[name]());
      const x = node.inputs[name];
      const cur = grads[x.id];
      if (cur == null) grads[x.id] = dx;
      else {
        grads[x.id] = tf.add(cur, dx);
        cur.dispose();
      }
    }
  }
}

/**
 * Calls `each(j, grads)` with the VJP `(∂y/∂xs)ᵀ dys[j]` for every j, taping `f` once.
 * @param f returns y; must compute from `xs` (may itself take gradients: they are taped, so y can be ∇L)
 * @param xs tensors to differentiate with respect to
 * @param dys cotangents, each with y's shape (disposed by the caller)
 * @param each receives the products in xs order (zeros where y does not depend on an x); they are disposed
 *   after it returns, so read them inside (e.g. `dataSync`)
 * @throws when called inside another gradient computation (the tape would be that one's)
 */
export function vjpMany(f: () => tf.Tensor, xs: tf.Tensor[], dys: tf.Tensor[], each: (j: number, grads: tf.Tensor[]) => void): void {
  const e = tf.engine() as unknown as EngineInternals;
  if (e.state.gradientDepth !== 0) throw new Error('vjpMany: must not run inside another gradient computation');
  const y = e.scopedRun(() => e.startTape(), () => e.endTape(), () => e.tidy('forward', f));
  const tape = e.state.activeTape!;
  try {
    const nodes = nodesFromXToY(tape, xs, y);
    dys.forEach((dy, j) => {
      if (dy.shape.length !== y.shape.length || dy.shape.some((d, k) => d !== y.shape[k])) throw new Error(`vjpMany: cotangent ${j} has shape [${dy.shape}], y has [${y.shape}]`);
      tf.tidy(() => {
        const grads: Record<number, tf.Tensor> = { [y.id]: dy };
        backprop(grads, nodes, (g) => e.tidy(g));
        each(j, xs.map((x) => grads[x.id] ?? tf.zerosLike(x)));
      });
    });
  } finally {
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    e.state.activeTape = null;
    y.dispose();
  }
}
