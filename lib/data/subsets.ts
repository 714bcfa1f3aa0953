/**
 * Seeded subset selection and binary relabelling.
 *
 * Everything here is host-side and tf-free (it does not import `dataset.ts`'s tensor helpers), so the
 * data layer can be used before a backend is initialised.
 *
 * @module
 */
import { rngFor } from '../runtime/rng.ts';
import { subset, type Dataset } from './dataset.ts';

/**
 * `k` distinct indices from 0..n-1, seeded by `(seed, stream)`, in draw order.
 * @returns ids `[k]`
 */
export function selectSubset(n: number, k: number, seed: number, stream = 'subset'): number[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`selectSubset: n must be a non-negative integer, got ${n}`);
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new Error(`selectSubset: k must be an integer in [0, ${n}], got ${k}`);
  return rngFor(seed, stream).sample(n, k);
}

/**
 * `k` indices with per-class counts as equal as possible: each class gets ⌊k/C⌋, classes with too few
 * examples give all they have and the rest is shared among the others; the last few leftover slots go
 * to classes in a seeded order. Within a class the examples are a seeded random sample.
 * @param labels class id per example `[n]`
 * @returns ids `[k]`, sorted ascending
 */
export function stratifiedSubset(labels: ArrayLike<number>, k: number, seed: number, stream = 'stratified'): number[] {
  if (!(Number.isInteger(k) && k >= 0 && k <= labels.length)) throw new Error(`stratifiedSubset: k must be an integer in [0, ${labels.length}], got ${k}`);
  const pools = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!pools.has(c)) pools.set(c, []);
    pools.get(c)!.push(i);
  }
  const classes = [...pools.keys()].sort((a, b) => a - b);
  const rng = rngFor(seed, stream);
  const order = rng.child('class-order').permutation(classes.length).map((i) => classes[i]);
  const quota = new Map(classes.map((c) => [c, 0]));
  let remaining = k;
  while (remaining > 0) {
    const open = order.filter((c) => quota.get(c)! < pools.get(c)!.length);
    const per = Math.floor(remaining / open.length);
    if (per === 0) {
      for (const c of open.slice(0, remaining)) quota.set(c, quota.get(c)! + 1);
      break;
    }
    for (const c of open) {
      const add = Math.min(per, pools.get(c)!.length - quota.get(c)!);
      quota.set(c, quota.get(c)! + add);
      remaining -= add;
    }
  }
  const out: number[] = [];
  for (const c of classes) {
    const pool = pools.get(c)!;
    const pick = rng.child(`class-${c}`).sample(pool.length, quota.get(c)!);
    for (const j of pick) out.push(pool[j]);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Keeps the examples of classes `a` and `b` (original order) and relabels `a` → 0, `b` → 1.
 * @returns a dataset with `classes = 2`; `meta.parentIds` `[n]` maps back to `ds`
 */
export function binaryTask(ds: Dataset, [a, b]: [number, number]): Dataset {
  if (ds.yShape.length !== 0) throw new Error(`binaryTask: '${ds.name}' is not a classification dataset (yShape [${ds.yShape}])`);
  if (a === b) throw new Error(`binaryTask: the two classes must differ, got ${a} and ${b}`);
  const ids: number[] = [];
  for (let i = 0; i < ds.n; i++) if (ds.y[i] === a || ds.y[i] === b) ids.push(i);
  if (!ids.length) throw new Error(`binaryTask: '${ds.name}' has no examples of class ${a} or ${b}`);
  const out = subset(ds, ids, `${ds.name}:${a}v${b}`);
  for (let i = 0; i < out.n; i++) out.y[i] = out.y[i] === a ? 0 : 1;
  const names = ds.meta?.classNames as string[] | undefined;
  out.classes = 2;
  out.meta = { ...(out.meta ?? {}), binary: [a, b], parentIds: ids, classNames: names ? [names[a], names[b]] : [String(a), String(b)] };
  return out;
}
