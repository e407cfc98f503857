/**
 * A tiny XML tree for EC2's Query responses. moto's answers are plain elements and text (no
 * attributes besides xmlns, no CDATA, no comments), so a 60-line parser that round-trips them is
 * simpler to trust than a general library whose serialiser may reorder or re-escape what the SDK
 * parses.
 */
export interface XmlElement {
  name: string;
  /** The raw attribute text of the start tag (kept verbatim, e.g. ` xmlns="..."`). */
  attrs: string;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

export function parseXml(xml: string): { prolog: string; root: XmlElement } {
  const prolog = /^\s*<\?xml[^>]*\?>\s*/.exec(xml)?.[0] ?? '';
  const root: XmlElement = { name: '#document', attrs: '', children: [] };
  const stack: XmlElement[] = [root];
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)([^>]*?)(\/?)>|([^<]+)/g;
  const body = xml.slice(prolog.length);
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const top = stack[stack.length - 1] as XmlElement;
    if (m[5] !== undefined) {
      if (m[5].trim()) top.children.push(decode(m[5]));
    } else if (m[1]) {
      stack.pop();
    } else {
      const element: XmlElement = { name: m[2] as string, attrs: m[3] ?? '', children: [] };
      top.children.push(element);
      if (!m[4]) stack.push(element);
    }
  }
  const first = root.children.find((c): c is XmlElement => typeof c !== 'string');
  if (!first) throw new Error('not an XML document');
  return { prolog, root: first };
}

export function serializeXml(doc: { prolog: string; root: XmlElement }): string {
  return doc.prolog + serializeElement(doc.root);
}

function serializeElement(e: XmlElement): string {
  if (e.children.length === 0) return `<${e.name}${e.attrs}/>`;
  const inner = e.children.map((c) => (typeof c === 'string' ? encode(c) : serializeElement(c))).join('');
  return `<${e.name}${e.attrs}>${inner}</${e.name}>`;
}

export function children(e: XmlElement | undefined, name: string): XmlElement[] {
  return (e?.children ?? []).filter((c): c is XmlElement => typeof c !== 'string' && c.name === name);
}

export function child(e: XmlElement | undefined, name: string): XmlElement | undefined {
  return children(e, name)[0];
}

/** Follows a path of element names, flattening `item` lists: path('imagesSet/item'). */
export function select(e: XmlElement | undefined, path: string): XmlElement[] {
  return path
    .split('/')
    .reduce<XmlElement[]>((found, name) => found.flatMap((f) => children(f, name)), e ? [e] : []);
}

export function text(e: XmlElement | undefined): string | undefined {
  if (!e) return undefined;
  return e.children.filter((c): c is string => typeof c === 'string').join('');
}

/** Sets (or adds) a child element's text. */
export function setText(e: XmlElement, name: string, value: string): void {
  const found = child(e, name);
  if (found) found.children = [value];
  else e.children.push({ name, attrs: '', children: [value] });
}

export function escapeXml(s: string): string {
  return encode(s);
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x?[0-9a-fA-F]+|\w+);/g, (all, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return entities[e] ?? all;
  });
}

function encode(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
