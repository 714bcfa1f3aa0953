/**
 * SVG text primitives: escaping, deterministic number formatting, element strings and stable ids.
 * Everything here is a pure string function so that the same figure always yields the same bytes.
 *
 * @module
 */

/** Escapes text for use in XML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A coordinate as a short, deterministic string: rounded to `digits` decimals, trailing zeros and
 * `-0` removed. Non-finite input is a bug in the caller (a NaN must become a gap, never a coordinate).
 */
export function num(v: number, digits = 2): string {
  if (!Number.isFinite(v)) throw new Error(`svg: non-finite coordinate ${v}`);
  const s = Number(v.toFixed(digits)).toString();
  return s === '-0' ? '0' : s;
}

/** Attribute values: `undefined` drops the attribute; numbers are formatted with {@link num}. */
export type Attrs = Record<string, string | number | undefined>;

function attrString(attrs: Attrs): string {
  let out = '';
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    out += ` ${k}="${typeof v === 'number' ? num(v) : esc(v)}"`;
  }
  return out;
}

/**
 * One element as a string. `children` are raw (already serialised) strings; pass text through
 * {@link esc} first. Without children the element is self-closing.
 */
export function el(tag: string, attrs: Attrs = {}, children?: string | string[]): string {
  const inner = Array.isArray(children) ? children.join('') : children;
  return inner === undefined || inner === '' ? `<${tag}${attrString(attrs)}/>` : `<${tag}${attrString(attrs)}>${inner}</${tag}>`;
}

/**
 * A text element; `\n` in `text` starts a new line (one `<tspan>` per line, `lineHeight` em apart, the
 * block centred vertically on `y` when `attrs['dominant-baseline']` is `middle`).
 */
export function textEl(text: string, attrs: Attrs, lineHeight = 1.15): string {
  const lines = text.split('\n');
  if (lines.length === 1) return el('text', attrs, esc(text));
  const x = attrs.x;
  const first = attrs['dominant-baseline'] === 'middle' ? (-(lines.length - 1) * lineHeight) / 2 : 0;
  const spans = lines.map((l, i) => el('tspan', { x, dy: `${num(i === 0 ? first : lineHeight, 3)}em` }, esc(l)));
  return el('text', attrs, spans);
}

/** FNV-1a 32-bit hash as 8 hex digits: stable ids for gradients and titles (unique per figure). */
export function hashId(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Approximate rendered width of `text` in px (sans-serif averages ~0.58 em per glyph); used for layout only. */
export function textWidth(text: string, fontSize: number): number {
  return Math.max(0, ...text.split('\n').map((l) => l.length)) * fontSize * 0.58;
}
