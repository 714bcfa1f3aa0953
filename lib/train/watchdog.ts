/**
 * Divergence watchdog: a finite loss that grows by orders of magnitude (an LR far too large) is not an error —
 * the run is still what was asked for — but the user must hear of it at once, naming the step, rather than
 * discover scores computed on a blown-up trajectory. Non-finite values are errors (engine.ts).
 *
 * @module
 */
import { warn } from '../runtime/log.ts';

/** A loss this many times the first step's loss (or above {@link ABSOLUTE}) is reported. */
export const GROWTH = 100;
/** A loss above this is reported whatever the first loss was. */
export const ABSOLUTE = 1e6;

/**
 * A per-run checker: call it with each step's loss; it warns once, at the first step whose loss exceeds
 * {@link GROWTH} × the first loss (or {@link ABSOLUTE}).
 * @param lrs applied LR per step (named in the warning)
 * @param firstLoss the run's first loss when resuming mid-run
 */
export function lossWatchdog(lrs: readonly number[], firstLoss?: number): (step: number, loss: number) => void {
  let first: number | undefined = firstLoss === undefined || !Number.isFinite(firstLoss) ? undefined : Math.abs(firstLoss);
  let told = false;
  return (step, loss) => {
    if (told || !Number.isFinite(loss)) return;
    if (first === undefined) {
      first = Math.abs(loss);
      return;
    }
    if (Math.abs(loss) > ABSOLUTE || Math.abs(loss) > GROWTH * Math.max(first, 1e-12)) {
      told = true;
      warn(`training is diverging: loss ${loss.toExponential(3)} at step ${step} (lr ${lrs[step]}) is ${(Math.abs(loss) / Math.max(first, 1e-12)).toExponential(1)}× the first step's ${first.toPrecision(4)}; scores on this run will not mean much (lower the learning rate)`);
    }
  };
}
