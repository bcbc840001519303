// Escaping for the export formats. Every message is user text: nothing in it may break the document.

// XML 1.0 cannot carry C0 controls other than tab, LF and CR, nor U+FFFE/U+FFFF, even as character
// references; they become U+FFFD. Lone surrogates are made well-formed first.
// eslint-disable-next-line no-control-regex
const xmlInvalid = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const xmlSpecial = /[&<>"']/g;
const xmlEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for XML element content or attribute values (any Unicode in, well-formed XML out). */
export function xmlText(value: string): string {
  const wellFormed = value.isWellFormed() ? value : value.toWellFormed();
  // CR would be normalised to LF by parsers; keep it as a reference so the content survives exactly.
  return wellFormed.replace(xmlInvalid, '\ufffd').replace(xmlSpecial, (c) => xmlEntities[c]).replace(/\r/g, '&#13;');
}

/** `<name>text</name>`, or nothing for empty text (Actiance omits empty elements). */
export function xmlElement(indent: string, name: string, value: string | number | undefined): string {
  if (value === undefined || value === '') return '';
  return `${indent}<${name}>${typeof value === 'number' ? value : xmlText(value)}</${name}>\n`;
}

// Spreadsheets run a cell starting with these as a formula (OWASP: = + - @, tab and carriage return).
const formulaStart = /^[=+\-@\t\r]/;

/** One CSV cell (RFC 4180 quoting), neutralised against formula injection with a leading apostrophe. */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  let text = value.isWellFormed() ? value : value.toWellFormed();
  if (formulaStart.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV line from cells, CRLF-terminated as RFC 4180 asks. */
export function csvRow(cells: (string | number)[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

/** A name safe as one path segment inside a zip (no separators, no dot-dot, no controls). */
export function zipSafeName(name: string, fallback = 'file'): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.toWellFormed().replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '_').replace(/^\.+/, '').trim().slice(0, 120);
  return cleaned === '' ? fallback : cleaned;
}
