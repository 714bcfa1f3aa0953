/**
 * Learning-rate schedules as pure float64 functions of the step index.
 *
 * Convention: `lrAt(s, t, n)` is η_t, the LR *applied by the optimizer update of step t* (0-based,
 * t = 0..n−1). PyTorch calls `scheduler.step()` after `optimizer.step()`, so the first update already
 * uses factor(0); the warm-up factor is (t+1)/warm (papers.md §1.11 GPT-2 row, §5.2 item 7), so no
 * update is taken with LR 0.
 *
 * @module
 */

/** Constant LR. */
export interface ConstantSchedule {
  kind: 'constant';
  lr: number;
}

/**
 * Linear warm-up then linear decay to 0 at step n:
 * factor(t) = (t+1)/warm if t < warm else max(0, (n−t)/(n−warm)).
 * Give exactly one of `warmupSteps` or `warmupFrac` (warm = round(warmupFrac·n), Python's
 * round-half-to-even, as in the reference code).
 */
export interface LinearSchedule {
  kind: 'linear';
  lr: number;
  warmupSteps?: number;
  warmupFrac?: number;
}

/**
 * Linear warm-up ((t+1)/warm) then half-cosine from `lr` to `minLr` over the remaining n−warm steps:
 * η_t = minLr + (lr−minLr)·½(1 + cos(π·(t−warm)/(n−warm))).
 */
export interface CosineSchedule {
  kind: 'cosine';
  lr: number;
  warmupSteps: number;
  minLr: number;
}

/** Any LR schedule (plain JSON). */
export type Schedule = ConstantSchedule | LinearSchedule | CosineSchedule;

const KINDS = ['constant', 'linear', 'cosine'];

/** Python's `round` (half to even), so warm-up lengths match the reference implementation. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function checkLr(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new Error(`schedule.${name} must be a finite number ≥ 0, got ${v}`);
  }
}

function checkTotal(totalSteps: number): void {
  if (!Number.isInteger(totalSteps) || totalSteps <= 0) {
    throw new Error(`schedule: totalSteps must be a positive integer, got ${totalSteps}`);
  }
}

/**
 * Validates a schedule; with `totalSteps` also checks warm-up ≤ total.
 * @throws naming the offending field
 */
export function validateSchedule(s: Schedule, totalSteps?: number): void {
  if (!s || typeof s !== 'object') throw new Error(`schedule must be an object, got ${JSON.stringify(s)}`);
  if (!KINDS.includes((s as { kind: string }).kind)) {
    throw new Error(`schedule.kind must be one of ${KINDS.join(' | ')}, got '${(s as { kind: string }).kind}'`);
  }
  checkLr('lr', s.lr);
  if (totalSteps !== undefined) checkTotal(totalSteps);
  if (s.kind === 'constant') return;
  if (s.kind === 'linear') {
    const hasSteps = s.warmupSteps !== undefined;
    const hasFrac = s.warmupFrac !== undefined;
    if (hasSteps === hasFrac) throw new Error('schedule (linear): give exactly one of warmupSteps or warmupFrac');
    if (hasFrac && (typeof s.warmupFrac !== 'number' || !(s.warmupFrac >= 0 && s.warmupFrac <= 1))) {
      throw new Error(`schedule.warmupFrac must be a number in [0, 1], got ${s.warmupFrac}`);
    }
  }
  if (s.kind === 'cosine') {
    checkLr('minLr', s.minLr);
    if (s.minLr > s.lr) throw new Error(`schedule.minLr (${s.minLr}) must be ≤ schedule.lr (${s.lr})`);
  }
  if (s.warmupSteps !== undefined && (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0)) {
    throw new Error(`schedule.warmupSteps must be a non-negative integer, got ${s.warmupSteps}`);
  }
  if (totalSteps !== undefined) {
    const w = warmupOf(s, totalSteps);
    if (w > totalSteps) throw new Error(`schedule: warm-up (${w} steps) exceeds totalSteps (${totalSteps})`);
  }
}

/** Warm-up length in steps for `totalSteps` (0 for constant). */
export function warmupOf(s: Schedule, totalSteps: number): number {
  if (s.kind === 'constant') return 0;
  if (s.kind === 'linear' && s.warmupSteps === undefined) return roundHalfEven((s.warmupFrac ?? 0) * totalSteps);
  return s.warmupSteps ?? 0;
}

/**
 * η_t: the LR applied at step `step` of a run with `totalSteps` updates (float64).
 * @throws on an invalid schedule or `step` outside [0, totalSteps)
 */
export function lrAt(s: Schedule, step: number, totalSteps: number): number {
  validateSchedule(s, totalSteps);
  if (!Number.isInteger(step) || step < 0 || step >= totalSteps) {
    throw new Error(`lrAt: step must be an integer in [0, ${totalSteps}), got ${step}`);
  }
  if (s.kind === 'constant') return s.lr;
  const n = totalSteps;
  const warm = warmupOf(s, n);
  if (step < warm) return s.lr * ((step + 1) / warm);
  if (s.kind === 'linear') return s.lr * Math.max(0, (n - step) / (n - warm));
  const progress = (step - warm) / Math.max(1, n - warm);
  return s.minLr + (s.lr - s.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** All LRs η_0..η_{n−1} of a run (float64). */
export function lrSequence(s: Schedule, totalSteps: number): number[] {
  validateSchedule(s, totalSteps);
  return Array.from({ length: totalSteps }, (_, t) => lrAt(s, t, totalSteps));
}
