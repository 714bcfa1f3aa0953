/**
 * Gradient plumbing shared by the autodiff modules: reverse-mode gradients that tolerate parameters
 * with no path to the output, and the guard that second-order code runs only with the tape fix.
 *
 * @module
 */
import { tf } from '../runtime/tf.ts';
import { appliedFixes } from '../runtime/gradfixes.ts';

/**
 * Throws unless the `tape-order` gradient fix is active. Stock tfjs 4.22 drops second-order terms
 * through ops that save their output (tanh, logSoftmax, softmax, …): double backprop then returns a
 * plausible, symmetric but WRONG result, or "Cannot compute gradient". Call before any double backprop.
 * @param where name of the calling function, used in the message
 */
export function requireSecondOrder(where: string): void {
  if (!appliedFixes().includes('tape-order')) {
    throw new Error(
      `${where}: the 'tape-order' gradient fix is not active (active fixes: [${appliedFixes().join(', ')}]); ` +
        `stock tfjs 4.22 silently returns wrong second-order gradients. Call \`await initBackend()\` ` +
        `(which applies lib/runtime/gradfixes.ts) before computing HVPs / GGN products.`,
    );
  }
}

/**
 * Reverse-mode gradients of the scalar `f()` with respect to `xs`, like `tf.grads`, but a tensor of
 * `xs` that `f` does not depend on gets a zero gradient instead of an error (e.g. the Hessian block of
 * a parameter that enters the loss linearly). Works nested (double backprop) when called inside
 * another `gradsOf`. Returned tensors are owned by the caller's scope (call inside `tf.tidy`).
 * @param f returns a scalar tensor; must compute from `xs`
 * @param xs tensors to differentiate with respect to
 * @returns `value` = f(), `grads[i]` with the shape of `xs[i]`
 */
export function gradsOf(f: () => tf.Tensor, xs: tf.Tensor[]): { value: tf.Tensor; grads: tf.Tensor[] } {
  return tf.tidy(() => {
    const { value, grads } = tf.engine().gradients(f, xs, undefined, true);
    if (value.size !== 1) throw new Error(`gradsOf: f must return a scalar, got shape [${value.shape}]`);
    return { value, grads: grads.map((g, i) => g ?? tf.zerosLike(xs[i])) };
  });
}
