/**
 * JSON Lines, and the 20 Newsgroups records stored that way (`20news-bydate.jsonl`).
 *
 * The header / footer / quote stripping re-implements scikit-learn's `fetch_20newsgroups(remove=
 * ('headers', 'footers', 'quotes'))`, which the ACC-SGD-IE / SGD-influence code uses for the
 * ibm-vs-mac task (papers.md §2.3).
 *
 * @module
 */

/**
 * Parses JSON Lines (one JSON value per non-empty line).
 * @returns values `[numLines]`
 */
export function parseJsonl(text: string, file = '<jsonl>'): unknown[] {
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    try {
      out.push(JSON.parse(line));
    } catch (err) {
      throw new Error(`${file}: line ${i + 1} is not valid JSON (${(err as Error).message}): ${line.slice(0, 80)}`);
    }
  }
  return out;
}

/** One message of `20news-bydate.jsonl`. `label` indexes the alphabetically sorted group names. */
export interface NewsRecord {
  split: 'train' | 'test';
  label: number;
  group: string;
  id: number;
  text: string;
}

/** The 20 group names in label order (scikit-learn's target order). */
export const NEWSGROUPS = [
  'alt.atheism', 'comp.graphics', 'comp.os.ms-windows.misc', 'comp.sys.ibm.pc.hardware', 'comp.sys.mac.hardware',
  'comp.windows.x', 'misc.forsale', 'rec.autos', 'rec.motorcycles', 'rec.sport.baseball', 'rec.sport.hockey',
  'sci.crypt', 'sci.electronics', 'sci.med', 'sci.space', 'soc.religion.christian', 'talk.politics.guns',
  'talk.politics.mideast', 'talk.politics.misc', 'talk.religion.misc',
] as const;

/** Parses and validates `20news-bydate.jsonl` content. @returns records `[numMessages]` */
export function parseNewsgroups(text: string, file = '<20news jsonl>'): NewsRecord[] {
  return parseJsonl(text, file).map((v, i) => {
    const r = v as Partial<NewsRecord>;
    if (
      typeof r !== 'object' || r === null || (r.split !== 'train' && r.split !== 'test') || typeof r.text !== 'string' ||
      !Number.isInteger(r.label) || r.label! < 0 || r.label! >= NEWSGROUPS.length || NEWSGROUPS[r.label!] !== r.group
    ) {
      throw new Error(`${file}: record ${i + 1} is not {split: 'train'|'test', label: 0–19, group: <name of label>, id, text}: ${JSON.stringify(v).slice(0, 120)}`);
    }
    return r as NewsRecord;
  });
}

/** Drops everything up to the first blank line (the message headers). */
export function stripNewsgroupHeader(text: string): string {
  const k = text.indexOf('\n\n');
  return k < 0 ? '' : text.slice(k + 2);
}

const QUOTE_RE = /(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^>)/;

/** Drops quoted lines and attribution lines ("... writes:"). */
export function stripNewsgroupQuoting(text: string): string {
  return text.split('\n').filter((l) => !QUOTE_RE.test(l)).join('\n');
}

/** Drops a signature block: everything from the last line made only of dashes/whitespace. */
export function stripNewsgroupFooter(text: string): string {
  const lines = text.trim().split('\n');
  let k = lines.length - 1;
  for (; k >= 0; k--) if (lines[k].trim().replace(/^-+|-+$/g, '') === '') break;
  return k > 0 ? lines.slice(0, k).join('\n') : text;
}

/** scikit-learn's `remove=('headers', 'footers', 'quotes')`, in its order. */
export function stripNewsgroupText(text: string): string {
  return stripNewsgroupQuoting(stripNewsgroupFooter(stripNewsgroupHeader(text)));
}
