/**
 * A small, strict XML reader: enough for the well-formed files OpenRamp generates, and strict
 * where a bank's parser would be (one root, matched tags, no duplicate attributes, no unescaped
 * markup in text, no mixed content). No DTDs, no namespaces beyond reading `xmlns` as an attribute.
 */
import { check, FormatViolation } from './checks.ts';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw new FormatViolation('XML', `unknown entity ${m}`);
    return v;
  });
}

export function parseXml(xml: string): XmlElement {
  const F = 'XML';
  let pos = 0;
  const skipMisc = (): void => {
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(pos));
      pos += ws?.[0].length ?? 0;
      if (xml.startsWith('<?', pos)) {
        const end = xml.indexOf('?>', pos);
        check(end >= 0, F, 'unterminated processing instruction');
        pos = end + 2;
      } else if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos);
        check(end >= 0, F, 'unterminated comment');
        pos = end + 3;
      } else return;
    }
  };
  const element = (): XmlElement => {
    const m = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(xml.slice(pos));
    check(m !== null, F, `expected a start tag at offset ${pos}`);
    pos += m[0].length;
    const name = m[1] ?? '';
    const attrs: Record<string, string> = {};
    for (const am of (m[2] ?? '').matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      const key = am[1] ?? '';
      check(!(key in attrs), F, `duplicate attribute ${key} on <${name}>`);
      attrs[key] = decodeEntities(am[2] ?? am[3] ?? '');
    }
    const el: XmlElement = { name, attrs, children: [], text: '' };
    if (m[3] === '/') return el;
    let text = '';
    for (;;) {
      const lt = xml.indexOf('<', pos);
      check(lt >= 0, F, `<${name}> is not closed`);
      text += xml.slice(pos, lt);
      pos = lt;
      if (xml.startsWith('</', pos)) {
        const close = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(xml.slice(pos));
        check(close !== null && close[1] === name, F, `</${close?.[1] ?? '?'}> closes <${name}>`);
        pos += close[0].length;
        break;
      }
      if (xml.startsWith('<!--', pos)) {
        skipMisc();
        continue;
      }
      el.children.push(element());
    }
    check(!/[<>]/.test(text) && !/&(?!(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);)/.test(text), F, `<${name}> holds unescaped markup characters`);
    el.text = decodeEntities(text);
    check(el.children.length === 0 || el.text.trim() === '', F, `<${name}> mixes text and elements`);
    return el;
  };
  skipMisc();
  const root = element();
  skipMisc();
  check(pos === xml.length, F, 'content after the root element');
  return root;
}

/** The children of `el` named `name`, in document order. */
export const kids = (el: XmlElement, name: string): XmlElement[] => el.children.filter((c) => c.name === name);

/** The first element down `path` (names separated by "/"), or null where the path ends early. */
export function opt(el: XmlElement, path: string): XmlElement | null {
  let cur: XmlElement | undefined = el;
  for (const name of path.split('/')) {
    cur = kids(cur, name)[0];
    if (cur === undefined) return null;
  }
  return cur;
}
