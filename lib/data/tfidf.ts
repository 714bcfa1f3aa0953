/**
 * A small TF-IDF vectoriser: lower-case word tokens, vocabulary = the top-k most frequent train terms
 * (after optional document-frequency limits), scikit-learn's smoothed idf, l2-normalised rows.
 *
 * @module
 */

/** Lower-case tokens of two or more letters/digits/underscores (scikit-learn's default token pattern). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? [];
}

/** Options of {@link fitTfidf}. */
export interface TfidfOptions {
  /** Vocabulary size (default 1000). */
  k?: number;
  /** Keep terms in at least `minDf · nDocs` train documents (default 0). */
  minDf?: number;
  /** Keep terms in at most `maxDf · nDocs` train documents (default 1). */
  maxDf?: number;
}

/** A fitted vectoriser. */
export interface TfidfModel {
  /** Terms `[k]`, most frequent first (ties alphabetical). */
  vocab: string[];
  /** idf per term `[k]`: ln((1 + n) / (1 + df)) + 1. */
  idf: Float64Array;
}

/**
 * Fits the vocabulary and idf on tokenised train documents.
 * @param docs tokens per document `[nDocs][*]`
 */
export function fitTfidf(docs: string[][], opts: TfidfOptions = {}): TfidfModel {
  const k = opts.k ?? 1000;
  if (!(Number.isInteger(k) && k > 0)) throw new Error(`fitTfidf: k must be a positive integer, got ${k}`);
  const n = docs.length;
  const count = new Map<string, number>();
  const df = new Map<string, number>();
  for (const d of docs) {
    for (const t of d) count.set(t, (count.get(t) ?? 0) + 1);
    for (const t of new Set(d)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  const lo = (opts.minDf ?? 0) * n;
  const hi = (opts.maxDf ?? 1) * n;
  const terms = [...count.keys()].filter((t) => df.get(t)! >= lo && df.get(t)! <= hi);
  terms.sort((a, b) => count.get(b)! - count.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
  const vocab = terms.slice(0, k);
  const idf = Float64Array.from(vocab, (t) => Math.log((1 + n) / (1 + df.get(t)!)) + 1);
  return { vocab, idf };
}

/**
 * Raw term counts × idf, each row scaled to unit l2 norm (all-zero rows stay zero).
 * @param docs tokens per document `[n][*]`
 * @returns float32 `[n, vocab.length]`
 */
export function transformTfidf(model: TfidfModel, docs: string[][]): Float32Array {
  const d = model.vocab.length;
  const index = new Map(model.vocab.map((t, i) => [t, i]));
  const out = new Float32Array(docs.length * d);
  const row = new Float64Array(d);
  docs.forEach((doc, i) => {
    row.fill(0);
    for (const t of doc) {
      const j = index.get(t);
      if (j !== undefined) row[j] += 1;
    }
    let ss = 0;
    for (let j = 0; j < d; j++) {
      row[j] *= model.idf[j];
      ss += row[j] * row[j];
    }
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let j = 0; j < d; j++) out[i * d + j] = row[j] * inv;
  });
  return out;
}
