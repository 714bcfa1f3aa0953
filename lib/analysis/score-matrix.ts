/**
 * Attribution score matrices: one score per (training sample, query) pair, float64, row-major.
 *
 * **Sign convention (every estimator and every ground truth in this suite):** a score is the predicted (or, for
 * ground truth, measured) change of the query loss when the training sample is removed,
 *
 *     score(z, q) = ℓ_q(θ trained without z) − ℓ_q(θ trained with z),
 *
 * so a **positive score means the sample helped the query** (removing it raises the query loss). Estimators whose
 * native sign is the opposite (e.g. AdamW-influence's −gᵀ W Z_push, papers.md §1.4) must be `negate`d before they
 * are stored in a ScoreMatrix.
 *
 * @module
 */

/**
 * Scores of `nTrain` training samples on `nQuery` queries.
 * `values` is row-major `[nTrain, nQuery]`: `values[i * nQuery + q]` is the score of training sample `i` on
 * query `q` (see the module doc for the sign convention). A column is one query's scores across training samples,
 * which is what the per-query metrics correlate.
 */
export interface ScoreMatrix {
  /** Number of training samples (rows). */
  readonly nTrain: number;
  /** Number of queries / validation points (columns). */
  readonly nQuery: number;
  /** Row-major `[nTrain, nQuery]`, length `nTrain * nQuery`. */
  readonly values: Float64Array;
}

/** The JSON form of a ScoreMatrix; non-finite values are written as `null` by JSON.stringify and read back as NaN. */
export interface ScoreMatrixJSON {
  nTrain: number;
  nQuery: number;
  /** Row-major `[nTrain, nQuery]`. */
  values: number[];
}

/** `"[nTrain=3, nQuery=2]"`, used in error messages. */
export function shapeString(m: { nTrain: number; nQuery: number }): string {
  return `[nTrain=${m.nTrain}, nQuery=${m.nQuery}]`;
}

function checkDim(where: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new Error(`${where}: ${name} must be a non-negative integer, got ${String(v)}`);
  }
}

/**
 * Builds a ScoreMatrix `[nTrain, nQuery]`.
 * @param values optional row-major data of length `nTrain * nQuery` (copied into a new Float64Array);
 *   zeros when omitted.
 */
export function scoreMatrix(nTrain: number, nQuery: number, values?: ArrayLike<number>): ScoreMatrix {
  checkDim('scoreMatrix', 'nTrain', nTrain);
  checkDim('scoreMatrix', 'nQuery', nQuery);
  const size = nTrain * nQuery;
  if (values === undefined) return { nTrain, nQuery, values: new Float64Array(size) };
  if (values.length !== size) {
    throw new Error(
      `scoreMatrix: values has length ${values.length}, expected nTrain·nQuery = ${nTrain}·${nQuery} = ${size}`,
    );
  }
  return { nTrain, nQuery, values: Float64Array.from(values) };
}

/**
 * Builds a ScoreMatrix from rows (one per training sample).
 * @param rows `[nTrain][nQuery]`, at least one row, all of the same length
 */
export function fromRows(rows: ArrayLike<number>[]): ScoreMatrix {
  if (rows.length === 0) throw new Error('fromRows: need at least one row (cannot infer nQuery from none)');
  const nQuery = rows[0].length;
  const out = new Float64Array(rows.length * nQuery);
  rows.forEach((r, i) => {
    if (r.length !== nQuery) throw new Error(`fromRows: row ${i} has length ${r.length}, row 0 has ${nQuery}`);
    for (let q = 0; q < nQuery; q++) out[i * nQuery + q] = r[q];
  });
  return { nTrain: rows.length, nQuery, values: out };
}

/**
 * One query's scores across all training samples (a copy).
 * @returns Float64Array `[nTrain]`
 */
export function column(m: ScoreMatrix, q: number): Float64Array {
  if (!Number.isInteger(q) || q < 0 || q >= m.nQuery) {
    throw new Error(`column: query index ${q} out of range for ${shapeString(m)}`);
  }
  const out = new Float64Array(m.nTrain);
  for (let i = 0; i < m.nTrain; i++) out[i] = m.values[i * m.nQuery + q];
  return out;
}

/**
 * One training sample's scores on all queries (a copy).
 * @returns Float64Array `[nQuery]`
 */
export function row(m: ScoreMatrix, i: number): Float64Array {
  if (!Number.isInteger(i) || i < 0 || i >= m.nTrain) {
    throw new Error(`row: training index ${i} out of range for ${shapeString(m)}`);
  }
  return m.values.slice(i * m.nQuery, (i + 1) * m.nQuery);
}

/**
 * Throws unless `a` and `b` have the same shape; the message names `what` and both shapes.
 * @param what context for the message, e.g. `"perQuery(est, truth)"`
 */
export function checkSameShape(a: ScoreMatrix, b: ScoreMatrix, what: string): void {
  if (a.nTrain !== b.nTrain || a.nQuery !== b.nQuery) {
    throw new Error(`${what}: shape mismatch, ${shapeString(a)} vs ${shapeString(b)}`);
  }
  // A hand-built object could disagree with its own dims; catch that here rather than read out of bounds.
  for (const m of [a, b]) {
    if (m.values.length !== m.nTrain * m.nQuery) {
      throw new Error(`${what}: values length ${m.values.length} does not match ${shapeString(m)}`);
    }
  }
}

/** `a += b` elementwise (e.g. summing per-occurrence rows); returns `a`. Shapes must match. */
export function addInPlace(a: ScoreMatrix, b: ScoreMatrix): ScoreMatrix {
  checkSameShape(a, b, 'addInPlace');
  const av = a.values, bv = b.values;
  for (let k = 0; k < av.length; k++) av[k] += bv[k];
  return a;
}

/** A new matrix `s · m`. */
export function scale(m: ScoreMatrix, s: number): ScoreMatrix {
  const out = new Float64Array(m.values.length);
  for (let k = 0; k < out.length; k++) out[k] = s * m.values[k];
  return { nTrain: m.nTrain, nQuery: m.nQuery, values: out };
}

/** A new matrix `−m` (to convert an estimator with the opposite sign convention; see the module doc). */
export function negate(m: ScoreMatrix): ScoreMatrix {
  return scale(m, -1);
}

/** Plain-object form for JSON.stringify (`values` row-major). */
export function toJSON(m: ScoreMatrix): ScoreMatrixJSON {
  return { nTrain: m.nTrain, nQuery: m.nQuery, values: Array.from(m.values) };
}

/**
 * Parses the output of `toJSON` (already JSON.parse'd, or a JSON string); validates dims and length.
 * `null` entries (how JSON.stringify writes NaN/±Infinity) become NaN.
 */
export function fromJSON(j: unknown): ScoreMatrix {
  const o = typeof j === 'string' ? (JSON.parse(j) as unknown) : j;
  if (typeof o !== 'object' || o === null) throw new Error('fromJSON: expected an object {nTrain, nQuery, values}');
  const { nTrain, nQuery, values } = o as Record<string, unknown>;
  checkDim('fromJSON', 'nTrain', nTrain);
  checkDim('fromJSON', 'nQuery', nQuery);
  if (!Array.isArray(values)) throw new Error('fromJSON: values must be an array');
  if (values.length !== nTrain * nQuery) {
    throw new Error(`fromJSON: values has length ${values.length}, expected ${nTrain * nQuery} for [nTrain=${nTrain}, nQuery=${nQuery}]`);
  }
  const out = new Float64Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v === null) out[k] = NaN;
    else if (typeof v === 'number') out[k] = v;
    else throw new Error(`fromJSON: values[${k}] is ${typeof v}, expected a number or null`);
  }
  return { nTrain, nQuery, values: out };
}
