/**
 * CSV parsing (papaparse) and the UCI Adult preprocessing.
 *
 * Adult: the 14 raw features (age, workclass, fnlwgt, education, education-num, marital-status,
 * occupation, relationship, race, sex, capital-gain, capital-loss, hours-per-week, native-country) and
 * the income label (`>50K` / `>50K.` → 1, `<=50K` / `<=50K.` → 0). Rows with a `?` anywhere are dropped.
 * Numeric columns are standardised with TRAIN mean and (population) std; categorical columns are
 * one-hot over the categories seen in train (sorted), so a test-only category encodes as all zeros.
 * Column order follows the raw column order, with each categorical column expanded in place.
 *
 * @module
 */
import Papa from 'papaparse';

/**
 * Parses CSV text with no header into rows of trimmed strings; empty lines are skipped.
 * @param text CSV text @param file name used in error messages
 * @returns rows `[numRows][numFields]`
 */
export function parseCsv(text: string, file = '<csv>', delimiter = ','): string[][] {
  const res = Papa.parse<string[]>(text, { delimiter, skipEmptyLines: 'greedy' });
  if (res.errors.length) {
    const e = res.errors[0];
    throw new Error(`${file}: CSV parse error at row ${e.row ?? '?'}: ${e.message} (${res.errors.length} error(s) in all)`);
  }
  return res.data.map((r) => r.map((f) => f.trim()));
}

/** Raw Adult column names, in file order (the 15th is the label). */
export const ADULT_COLUMNS = [
  'age', 'workclass', 'fnlwgt', 'education', 'education-num', 'marital-status', 'occupation', 'relationship',
  'race', 'sex', 'capital-gain', 'capital-loss', 'hours-per-week', 'native-country', 'income',
] as const;
const ADULT_NUMERIC = new Set(['age', 'fnlwgt', 'education-num', 'capital-gain', 'capital-loss', 'hours-per-week']);

/** Adult rows after dropping `?` rows: raw feature strings `[n][14]` and labels `[n]`. */
export interface AdultRows {
  features: string[][];
  labels: Int32Array;
  /** Rows dropped because a field was `?`. */
  dropped: number;
}

/**
 * Reads one Adult file (adult.data or adult.test): skips the `|1x3 Cross validator` line of adult.test,
 * drops rows containing `?`, maps the income label to 0/1.
 */
export function parseAdultRows(text: string, file = '<adult>'): AdultRows {
  const rows = parseCsv(text, file);
  const features: string[][] = [];
  const labels: number[] = [];
  let dropped = 0;
  rows.forEach((r, i) => {
    if (r.length === 1 && r[0].startsWith('|')) return; // comment line of adult.test
    if (r.length !== 15) throw new Error(`${file}: row ${i + 1} has ${r.length} fields, expected 15 (14 features + income)`);
    if (r.some((f) => f === '?')) {
      dropped++;
      return;
    }
    const lab = r[14].replace(/\.$/, '');
    if (lab !== '>50K' && lab !== '<=50K') throw new Error(`${file}: row ${i + 1}: income '${r[14]}', expected '>50K' or '<=50K' (optionally with a trailing '.')`);
    features.push(r.slice(0, 14));
    labels.push(lab === '>50K' ? 1 : 0);
  });
  return { features, labels: Int32Array.from(labels), dropped };
}

/** Encoded Adult split. */
export interface AdultEncoded {
  n: number;
  /** float32 `[n, columns.length]` */
  x: Float32Array;
  /** int32 `[n]`, 1 = income >50K */
  y: Int32Array;
  dropped: number;
  /** Test rows whose category was unseen in train, per column (all-zero one-hot). */
  unseen?: Record<string, number>;
}

/** Train-fitted Adult encoding: column names and the statistics used. */
export interface AdultEncoding {
  /** Output column names `[d]`: numeric names, and `column=category` for one-hot columns. */
  columns: string[];
  /** TRAIN mean and std per numeric column. */
  stats: Record<string, { mean: number; std: number }>;
  /** Sorted TRAIN categories per categorical column. */
  categories: Record<string, string[]>;
}

/**
 * Fits the encoding on `train` and applies it to both splits.
 * @returns `columns` `[d]` (d = 104 for the UCI files), `train.x` `[nTrain, d]`, `test.x` `[nTest, d]`
 */
export function encodeAdult(train: AdultRows, test: AdultRows, file = 'adult'): AdultEncoding & { train: AdultEncoded; test: AdultEncoded } {
  const stats: AdultEncoding['stats'] = {};
  const categories: AdultEncoding['categories'] = {};
  const columns: string[] = [];
  for (let c = 0; c < 14; c++) {
    const name = ADULT_COLUMNS[c];
    if (ADULT_NUMERIC.has(name)) {
      const v = train.features.map((r, i) => {
        const x = Number(r[c]);
        if (!Number.isFinite(x) || r[c] === '') throw new Error(`${file}: train row ${i + 1}: ${name} '${r[c]}' is not a number`);
        return x;
      });
      const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
      const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length));
      stats[name] = { mean, std: std > 0 ? std : 1 };
      columns.push(name);
    } else {
      categories[name] = [...new Set(train.features.map((r) => r[c]))].sort();
      for (const cat of categories[name]) columns.push(`${name}=${cat}`);
    }
  }
  const encode = (rows: AdultRows, split: string): AdultEncoded => {
    const d = columns.length;
    const x = new Float32Array(rows.features.length * d);
    const unseen: Record<string, number> = {};
    rows.features.forEach((r, i) => {
      let o = i * d;
      for (let c = 0; c < 14; c++) {
        const name = ADULT_COLUMNS[c];
        if (ADULT_NUMERIC.has(name)) {
          const v = Number(r[c]);
          if (!Number.isFinite(v) || r[c] === '') throw new Error(`${file}: ${split} row ${i + 1}: ${name} '${r[c]}' is not a number`);
          x[o++] = (v - stats[name].mean) / stats[name].std;
        } else {
          const cats = categories[name];
          const k = cats.indexOf(r[c]);
          if (k >= 0) x[o + k] = 1;
          else unseen[name] = (unseen[name] ?? 0) + 1;
          o += cats.length;
        }
      }
    });
    return { n: rows.features.length, x, y: rows.labels, dropped: rows.dropped, unseen };
  };
  return { columns, stats, categories, train: encode(train, 'train'), test: encode(test, 'test') };
}

/**
 * sklearn "digits" CSV: no header, 1797 rows of 64 pixel values 0–16 then the label 0–9.
 * @returns `x` float32 `[n, 64]` (raw 0–16 values) and `y` int32 `[n]`
 */
export function parseDigitsCsv(text: string, file = '<digits.csv>'): { n: number; x: Float32Array; y: Int32Array } {
  const rows = parseCsv(text, file);
  const x = new Float32Array(rows.length * 64);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    if (r.length !== 65) throw new Error(`${file}: row ${i + 1} has ${r.length} fields, expected 65 (64 pixels + label)`);
    for (let j = 0; j < 65; j++) {
      const v = Number(r[j]);
      const max = j < 64 ? 16 : 9;
      if (!Number.isInteger(v) || v < 0 || v > max || r[j] === '') throw new Error(`${file}: row ${i + 1}, field ${j + 1}: '${r[j]}', expected an integer 0–${max}`);
      if (j < 64) x[i * 64 + j] = v;
      else y[i] = v;
    }
  });
  return { n: rows.length, x, y };
}
