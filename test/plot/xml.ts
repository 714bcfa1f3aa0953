/**
 * A tiny XML well-formedness checker and tree for the SVG tests: tags balance, attributes are quoted and
 * unique, text and attribute values use only the five predefined entities or character references, and
 * there is exactly one root. Throws an Error naming the offset of the first problem.
 */

/** An element of the parsed tree. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Concatenated text directly inside this element (entities decoded). */
  text: string;
}

const NAME = /^[A-Za-z_][\w.:-]*$/;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function decode(s: string, at: number): string {
  if (s.replace(ENTITY, '').includes('&')) throw new Error(`xml: bare '&' near offset ${at}`);
  return s
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Parses `xml` into its root element; throws on any well-formedness problem. */
export function parseXml(xml: string): XmlNode {
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (text.trim()) {
      if (!stack.length) throw new Error(`xml: text outside the root near offset ${i}`);
      if (text.includes('>')) throw new Error(`xml: stray '>' near offset ${i}`);
      stack[stack.length - 1].text += decode(text, i);
    }
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt);
      if (end < 0) throw new Error(`xml: unterminated comment at ${lt}`);
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<?', lt)) {
      const end = xml.indexOf('?>', lt);
      if (end < 0) throw new Error(`xml: unterminated declaration at ${lt}`);
      i = end + 2;
      continue;
    }
    const gt = xml.indexOf('>', lt);
    if (gt < 0) throw new Error(`xml: unterminated tag at ${lt}`);
    const tag = xml.slice(lt + 1, gt);
    if (tag.includes('<')) throw new Error(`xml: '<' inside a tag at ${lt}`);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`xml: </${name}> at ${lt} closes <${open?.name ?? 'nothing'}>`);
      i = gt + 1;
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([^\s/>]+)/.exec(body);
    if (!m || !NAME.test(m[1])) throw new Error(`xml: bad element name at ${lt}: '${body.slice(0, 20)}'`);
    const node: XmlNode = { name: m[1], attrs: {}, children: [], text: '' };
    let rest = body.slice(m[1].length);
    const attr = /^\s+([A-Za-z_][\w.:-]*)="([^"<]*)"/;
    for (let a = attr.exec(rest); a; a = attr.exec(rest)) {
      if (a[1] in node.attrs) throw new Error(`xml: duplicate attribute '${a[1]}' on <${node.name}> at ${lt}`);
      node.attrs[a[1]] = decode(a[2], lt);
      rest = rest.slice(a[0].length);
    }
    if (rest.trim()) throw new Error(`xml: malformed attributes on <${node.name}> at ${lt}: '${rest.trim().slice(0, 30)}'`);
    if (stack.length) stack[stack.length - 1].children.push(node);
    else if (root) throw new Error(`xml: second root element <${node.name}> at ${lt}`);
    else root = node;
    if (!selfClosing) stack.push(node);
    i = gt + 1;
  }
  if (stack.length) throw new Error(`xml: <${stack[stack.length - 1].name}> is never closed`);
  if (!root) throw new Error('xml: no root element');
  return root;
}

/** Every element under (and including) `node` that matches `pred`, in document order. */
export function findAll(node: XmlNode, pred: (n: XmlNode) => boolean): XmlNode[] {
  const out: XmlNode[] = [];
  const walk = (n: XmlNode) => {
    if (pred(n)) out.push(n);
    n.children.forEach(walk);
  };
  walk(node);
  return out;
}

/** Elements whose class list contains `cls`. */
export function byClass(node: XmlNode, cls: string): XmlNode[] {
  return findAll(node, (n) => (n.attrs.class ?? '').split(/\s+/).includes(cls));
}
