/**
 * The single tfjs entry point of faithful-tda.
 *
 * Every module imports `tf` from here, never from '@tensorflow/tfjs' directly, so that there is exactly
 * one tfjs-core engine in the process (the node backends register into it) and so that backend
 * selection + gradient fixes (see `backend.ts`) are applied before any tensor exists.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
export { tf };
export type Tensor = tf.Tensor;
export type Rank = tf.Rank;
