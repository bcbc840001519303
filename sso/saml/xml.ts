import { createRequire } from 'node:module';
import { SsoRefusal } from '../deps.ts';

/** The few DOM members used here. (@xmldom/xmldom's own typings pull the browser DOM lib into the whole project.) */
export interface Node {
  nodeType: number;
  nodeValue: string | null;
  firstChild: Node | null;
  nextSibling: Node | null;
  toString(): string;
}
export interface Element extends Node {
  namespaceURI: string | null;
  localName: string;
  getAttribute(name: string): string | null;
}
export interface Document extends Node {
  documentElement: Element;
}
interface ErrorHandler {
  warning(message: unknown): void;
  error(message: unknown): void;
  fatalError(message: unknown): void;
}
const { DOMParser } = createRequire(import.meta.url)('@xmldom/xmldom') as {
  DOMParser: new (options: { errorHandler: ErrorHandler }) => { parseFromString(xml: string, type: string): Document | undefined };
};

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
  xmlenc: 'http://www.w3.org/2001/04/xmlenc#',
} as const;

/**
 * Parses untrusted XML strictly: any DOCTYPE or entity declaration is refused before the parser sees
 * it (XXE, billion laughs), as is anything that is not well-formed.
 */
export function parseUntrustedXml(xml: string, what: string): Document {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw new SsoRefusal(`${what} contains a DOCTYPE or ENTITY declaration`);
  const problems: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (message: unknown) => problems.push(String(message)),
      fatalError: (message: unknown) => problems.push(String(message)),
    },
  }).parseFromString(xml, 'text/xml');
  if (problems.length > 0 || !doc || !doc.documentElement) throw new SsoRefusal(`${what} is not well-formed XML`);
  return doc;
}

/** Every element below (and including) `root` with the given namespace and local name. */
export function elements(root: Node, ns: string, localName: string): Element[] {
  const found: Element[] = [];
  const walk = (node: Node) => {
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === 1) {
        const el = child as Element;
        if (el.namespaceURI === ns && el.localName === localName) found.push(el);
        walk(el);
      }
    }
  };
  if (root.nodeType === 1) {
    const el = root as Element;
    if (el.namespaceURI === ns && el.localName === localName) found.push(el);
  }
  walk(root);
  return found;
}

/** Element children of `parent` with the given namespace and local name. */
export function children(parent: Node, ns: string, localName: string): Element[] {
  const found: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === 1 && (child as Element).namespaceURI === ns && (child as Element).localName === localName) found.push(child as Element);
  }
  return found;
}

/** Every element of the document, whatever its namespace, whose local name is `localName`. */
export function anyNamespace(root: Node, localName: string): Element[] {
  const found: Element[] = [];
  const walk = (node: Node) => {
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === 1) {
        if ((child as Element).localName === localName) found.push(child as Element);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}

/**
 * The text of an element that must hold plain text only. A comment, processing instruction or child
 * element inside it is refused: parsers disagree on how to join text around them, which is how
 * `user@corp.com<!---->.evil.com` became `user@corp.com` (CVE-2017-11428 and relatives).
 */
export function strictText(el: Element, what: string): string {
  let text = '';
  for (let child = el.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === 3 || child.nodeType === 4) text += child.nodeValue ?? '';
    else throw new SsoRefusal(`${what} contains markup (comment or element) inside its text`);
  }
  return text.trim();
}
