/**
 * Dataset registry: one name → a verified, parsed, preprocessed {@link Dataset}; plus text corpora,
 * instruction tasks and raw file paths for the tokenizer / model loaders.
 *
 * @module
 */
import type { Dataset } from './dataset.ts';
import { readDataFile, resolveDataFile, type ResolveOptions } from './resolve.ts';
import { dataFileEntry } from './checksums.ts';
import { bytesToFloat, parseIdxImages, parseIdxLabels } from './idx.ts';
import { CIFAR10_CLASSES, parseCifar10 } from './cifar.ts';
import { encodeAdult, parseAdultRows, parseDigitsCsv } from './csv.ts';
import { NEWSGROUPS, parseJsonl, parseNewsgroups, stripNewsgroupText } from './jsonl.ts';
import { fitTfidf, tokenize, transformTfidf } from './tfidf.ts';
import { decodeUtf8, splitTinyStories } from './text.ts';
import { binaryTask } from './subsets.ts';
import { UsageError } from '../runtime/errors.ts';

/** Names accepted by {@link loadDataset}. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10', 'adult', '20news-binary', 'mnist-1v7', 'digits'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];
/** `all` exists only for `digits` (which has no official split). */
export type Split = 'train' | 'test' | 'all';

/** Options of {@link loadDataset}. */
export interface LoadOptions {
  /** Image layout: `flat` (`[784]`, `[3072]`, `[64]`) or `image` (`[28,28,1]`, `[32,32,3]`, `[8,8,1]`). Default: flat, except cifar10 → image. */
  shape?: 'flat' | 'image';
  /** 20news-binary: vocabulary size (default 1000). */
  k?: number;
  /** 20news-binary: document-frequency limits as fractions of train docs (default 0.001 and 0.2, as in the ACC-SGD-IE code). */
  minDf?: number;
  maxDf?: number;
  /** 20news-binary: strip headers, signature footers and quotes like scikit-learn (default true). */
  strip?: boolean;
  /** Where to find the files (cache dir, mirror, offline). */
  resolve?: ResolveOptions;
}

const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
/** digits has no official split: the first 1437 rows (80 %) train, the last 360 test. */
const DIGITS_TRAIN = 1437;

function provenance(files: string[]): Record<string, string> {
  return Object.fromEntries(files.map((f) => [f, dataFileEntry(f).sha256]));
}

function requireSplit(name: string, split: Split, allowed: Split[]): void {
  if (!allowed.includes(split)) throw new Error(`dataset '${name}': unknown split '${split}', expected one of ${allowed.join(', ')}`);
}

async function loadIdx(name: 'mnist' | 'fashion-mnist', split: Split, opts: LoadOptions): Promise<Dataset> {
  requireSplit(name, split, ['train', 'test']);
  const pre = split === 'train' ? 'train' : 't10k';
  const fi = `${name}/${pre}-images-idx3-ubyte.gz`;
  const fl = `${name}/${pre}-labels-idx1-ubyte.gz`;
  const img = parseIdxImages(await readDataFile(fi, opts.resolve), fi);
  const lab = parseIdxLabels(await readDataFile(fl, opts.resolve), fl);
  if (lab.length !== img.n) throw new Error(`${name}/${split}: ${fi} has ${img.n} images but ${fl} has ${lab.length} labels`);
  const y = Int32Array.from(lab);
  const bad = y.findIndex((v) => v > 9);
  if (bad >= 0) throw new Error(`${fl}: label ${y[bad]} at index ${bad}, expected 0–9`);
  return {
    name: `${name}/${split}`,
    n: img.n,
    x: bytesToFloat(img.pixels),
    xShape: opts.shape === 'image' ? [img.rows, img.cols, 1] : [img.rows * img.cols],
    y,
    yShape: [],
    classes: 10,
    meta: { files: provenance([fi, fl]), preprocessing: 'pixels / 255', classNames: name === 'mnist' ? MNIST_CLASSES : FASHION_CLASSES },
  };
}

async function loadCifar(split: Split, opts: LoadOptions): Promise<Dataset> {
  requireSplit('cifar10', split, ['train', 'test']);
  const f = split === 'train' ? 'cifar10-subset/cifar10_train_first4000.bin.gz' : 'cifar10-subset/cifar10_test_first1000.bin.gz';
  const { n, x, y } = parseCifar10(await readDataFile(f, opts.resolve), f);
  return {
    name: `cifar10/${split}`,
    n,
    x,
    xShape: opts.shape === 'flat' ? [3072] : [32, 32, 3],
    y,
    yShape: [],
    classes: 10,
    meta: { files: provenance([f]), preprocessing: 'NHWC, pixels / 255', classNames: [...CIFAR10_CLASSES] },
  };
}

async function loadAdult(split: Split, opts: LoadOptions): Promise<Dataset> {
  requireSplit('adult', split, ['train', 'test']);
  const ftr = 'adult/adult.data.gz';
  const fte = 'adult/adult.test.gz';
  const tr = parseAdultRows(decodeUtf8(await readDataFile(ftr, opts.resolve), ftr), ftr);
  const te = parseAdultRows(decodeUtf8(await readDataFile(fte, opts.resolve), fte), fte);
  const enc = encodeAdult(tr, te);
  const s = split === 'train' ? enc.train : enc.test;
  return {
    name: `adult/${split}`,
    n: s.n,
    x: s.x,
    xShape: [enc.columns.length],
    y: s.y,
    yShape: [],
    classes: 2,
    meta: {
      files: provenance([ftr, fte]),
      preprocessing: "rows with '?' dropped; numeric standardised with train mean/std; categorical one-hot over train categories",
      columns: enc.columns,
      stats: enc.stats,
      dropped: s.dropped,
      unseenCategories: s.unseen,
      classNames: ['<=50K', '>50K'],
    },
  };
}

async function loadNews(split: Split, opts: LoadOptions): Promise<Dataset> {
  requireSplit('20news-binary', split, ['train', 'test']);
  const f = '20newsgroups/20news-bydate.jsonl.gz';
  const [a, b] = [NEWSGROUPS.indexOf('comp.sys.ibm.pc.hardware'), NEWSGROUPS.indexOf('comp.sys.mac.hardware')];
  const recs = parseNewsgroups(decodeUtf8(await readDataFile(f, opts.resolve), f), f).filter((r) => r.label === a || r.label === b);
  const strip = opts.strip ?? true;
  const toks = (s: 'train' | 'test') => recs.filter((r) => r.split === s).map((r) => tokenize(strip ? stripNewsgroupText(r.text) : r.text));
  const tfopts = { k: opts.k ?? 1000, minDf: opts.minDf ?? 0.001, maxDf: opts.maxDf ?? 0.2 };
  const model = fitTfidf(toks('train'), tfopts);
  const mine = recs.filter((r) => r.split === split);
  const x = transformTfidf(model, split === 'train' ? toks('train') : toks('test'));
  return {
    name: `20news-binary/${split}`,
    n: mine.length,
    x,
    xShape: [model.vocab.length],
    y: Int32Array.from(mine, (r) => (r.label === a ? 0 : 1)),
    yShape: [],
    classes: 2,
    meta: {
      files: provenance([f]),
      preprocessing: `${strip ? 'headers/footers/quotes stripped; ' : ''}lower-case word tokens; TF-IDF over top-${tfopts.k} train terms with df in [${tfopts.minDf}, ${tfopts.maxDf}]·n; l2 rows`,
      vocab: model.vocab,
      ids: mine.map((r) => r.id),
      classNames: [NEWSGROUPS[a], NEWSGROUPS[b]],
    },
  };
}

async function loadDigits(split: Split, opts: LoadOptions): Promise<Dataset> {
  requireSplit('digits', split, ['train', 'test', 'all']);
  const f = 'sklearn-digits/digits.csv.gz';
  const all = parseDigitsCsv(decodeUtf8(await readDataFile(f, opts.resolve), f), f);
  const [lo, hi] = split === 'train' ? [0, DIGITS_TRAIN] : split === 'test' ? [DIGITS_TRAIN, all.n] : [0, all.n];
  const x = all.x.slice(lo * 64, hi * 64);
  for (let i = 0; i < x.length; i++) x[i] /= 16;
  return {
    name: `digits/${split}`,
    n: hi - lo,
    x,
    xShape: opts.shape === 'image' ? [8, 8, 1] : [64],
    y: all.y.slice(lo, hi),
    yShape: [],
    classes: 10,
    meta: { files: provenance([f]), preprocessing: `values / 16; rows [${lo}, ${hi}) of 1797`, classNames: MNIST_CLASSES },
  };
}

/**
 * Loads a dataset split.
 * - `mnist`, `fashion-mnist`: x `[784]` (or `[28,28,1]`), float32 in [0, 1], 10 classes; 60000 / 10000.
 * - `cifar10`: the 4000 / 1000 subset, x `[32,32,3]` NHWC in [0, 1] (or `[3072]`).
 * - `adult`: x `[104]` standardised numeric + one-hot, y 1 = income >50K; 30162 / 15060 rows.
 * - `20news-binary`: ibm.pc (0) vs mac (1), x `[k]` TF-IDF; 1168 / 777 messages.
 * - `mnist-1v7`: MNIST digits 1 (→ 0) and 7 (→ 1), x `[784]`.
 * - `digits`: sklearn digits, x `[64]` in [0, 1]; train = first 1437 rows, test = last 360, or `all`.
 */
export async function loadDataset(name: string, split: Split, opts: LoadOptions = {}): Promise<Dataset> {
  switch (name as DatasetName) {
    case 'mnist':
    case 'fashion-mnist':
      return loadIdx(name as 'mnist' | 'fashion-mnist', split, opts);
    case 'cifar10':
      return loadCifar(split, opts);
    case 'adult':
      return loadAdult(split, opts);
    case '20news-binary':
      return loadNews(split, opts);
    case 'mnist-1v7': {
      const ds = binaryTask(await loadIdx('mnist', split, opts), [1, 7]);
      ds.name = `mnist-1v7/${split}`;
      return ds;
    }
    case 'digits':
      return loadDigits(split, opts);
    default:
      throw new UsageError(`unknown dataset '${name}'; known datasets: ${DATASET_NAMES.join(', ')}`);
  }
}

const TEXT_FILES = {
  'wikitext2-valid': 'wikitext-2/wiki.valid.tokens.gz',
  'wikitext2-test': 'wikitext-2/wiki.test.tokens.gz',
  tinyshakespeare: 'tinyshakespeare/input.txt.gz',
  tinystories: 'instructions/tinystories/tinystories_train_first2316.txt.gz',
} as const;
/** Names accepted by {@link loadText}. */
export type TextName = keyof typeof TEXT_FILES;
export const TEXT_NAMES = Object.keys(TEXT_FILES) as TextName[];

/** A whole text corpus as one string (UTF-8 decoded, verified). */
export async function loadText(name: TextName, opts: ResolveOptions = {}): Promise<string> {
  const f = (TEXT_FILES as Record<string, string>)[name];
  if (!f) throw new UsageError(`unknown text corpus '${name}'; known corpora: ${TEXT_NAMES.join(', ')}`);
  return decodeUtf8(await readDataFile(f, opts), f);
}

/** The TinyStories sample split into stories. @returns stories `[2316]` */
export async function loadStories(opts: ResolveOptions = {}): Promise<string[]> {
  return splitTinyStories(await loadText('tinystories', opts));
}

/** One Self-Instruct task: prompt = `instruction` (+ `input` when non-empty), response = `output`. */
export interface InstructionTask {
  id: string;
  instruction: string;
  input: string;
  output: string;
}

const INSTRUCTION_FILES = {
  'self-instruct-seed': 'instructions/self-instruct/seed_tasks.jsonl.gz',
  'self-instruct-user': 'instructions/self-instruct/user_oriented_instructions.jsonl.gz',
} as const;

/**
 * Self-Instruct tasks, one instance each: `self-instruct-seed` (175, for training) or
 * `self-instruct-user` (252, evaluation only).
 */
export async function loadInstructionTasks(name: keyof typeof INSTRUCTION_FILES, opts: ResolveOptions = {}): Promise<InstructionTask[]> {
  const f = (INSTRUCTION_FILES as Record<string, string>)[name];
  if (!f) throw new UsageError(`unknown instruction set '${name}'; known sets: ${Object.keys(INSTRUCTION_FILES).join(', ')}`);
  return parseJsonl(decodeUtf8(await readDataFile(f, opts), f), f).map((v, i) => {
    const r = v as { id?: unknown; instruction?: unknown; instances?: { input?: unknown; output?: unknown }[] };
    const inst = r.instances?.[0];
    if (typeof r.id !== 'string' || typeof r.instruction !== 'string' || typeof inst?.input !== 'string' || typeof inst?.output !== 'string') {
      throw new Error(`${f}: line ${i + 1} lacks id / instruction / instances[0].input / instances[0].output strings`);
    }
    return { id: r.id, instruction: r.instruction, input: inst.input, output: inst.output };
  });
}

/**
 * Local path of a verified raw file, for loaders that parse it themselves, e.g.
 * `tokenizers/gpt2/encoder.json`, `tokenizers/gpt2/vocab.bpe`, `models/stories260K/stories260K.gguf`.
 */
export function dataFilePath(logicalPath: string, opts: ResolveOptions = {}): Promise<string> {
  return resolveDataFile(logicalPath, opts);
}
