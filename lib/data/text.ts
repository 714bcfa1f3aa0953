/**
 * Plain-text corpora: strict UTF-8 decoding (a bad byte names the file) and TinyStories splitting.
 *
 * @module
 */

/**
 * Decodes UTF-8 strictly (no silent U+FFFD), dropping a leading byte-order mark.
 * @param bytes `[m]` @param file name used in error messages
 */
export function decodeUtf8(bytes: Uint8Array, file = '<text>'): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (err) {
    throw new Error(`${file}: not valid UTF-8 (${(err as Error).message})`);
  }
}

/** The TinyStories story separator (a line holding only the end-of-text marker). */
export const TINYSTORIES_SEPARATOR = '\n<|endoftext|>\n';

/**
 * Splits TinyStories text into stories on `"\n<|endoftext|>\n"`; whitespace inside stories is kept,
 * empty pieces (e.g. after the final separator) are dropped.
 * @returns stories `[numStories]`
 */
export function splitTinyStories(text: string): string[] {
  // A file may also start with the marker; normalise so that the split sees it as a separator.
  const t = text.startsWith('<|endoftext|>\n') ? '\n' + text : text;
  return t.split(TINYSTORIES_SEPARATOR).filter((s) => s.trim() !== '');
}
