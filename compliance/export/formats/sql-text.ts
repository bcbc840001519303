// The escaping of text.ts as SQL expressions, for documents PostgreSQL renders itself. PostgreSQL text
// is valid UTF-8 without NUL or surrogates, so only the rest of xmlText's rules apply, in its order.

const controls = [...Array.from({ length: 8 }, (_, i) => i + 1), 0x0b, 0x0c, ...Array.from({ length: 18 }, (_, i) => i + 0x0e)];
const invalidChars = controls.map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('') + '\\uFFFE\\uFFFF';
const replacements = '\\uFFFD'.repeat(controls.length + 2);
const invalidClass = `E'[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\uFFFE\\uFFFF]'`;
const specialClass = `E'[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\uFFFE\\uFFFF&<>"''\\r]'`;

/**
 * SQL for xmlText(expr): invalid characters to U+FFFD, the five entities, CR as a reference. Each
 * step costs microseconds per value (translate() most), so one regular expression first tells
 * whether the value needs any of them: most chat text does not.
 */
export function xmlSql(expr: string): string {
  const valid = `CASE WHEN ${expr} ~ ${invalidClass} THEN translate(${expr}, E'${invalidChars}', E'${replacements}') ELSE ${expr} END`;
  const escaped = `replace(replace(replace(replace(replace(replace(${valid}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&apos;'), E'\\r', '&#13;')`;
  return `CASE WHEN ${expr} ~ ${specialClass} THEN ${escaped} ELSE ${expr} END`;
}

/** SQL for xmlElement(indent, name, expr): the element on its own line, or '' when the text is empty or null. */
export function xmlElementSql(indent: string, name: string, expr: string): string {
  return `CASE WHEN COALESCE(${expr}, '') = '' THEN '' ELSE '${indent}<${name}>' || ${xmlSql(expr)} || '</${name}>\n' END`;
}

/** SQL for csvCell(expr) on text: formula starts neutralised with an apostrophe, then RFC 4180 quoting. */
export function csvSql(expr: string): string {
  const neutral = `CASE WHEN ${expr} ~ E'^[=+\\\\-@\\t\\r]' THEN '''' || ${expr} ELSE ${expr} END`;
  return `CASE WHEN ${expr} ~ E'^[=+\\\\-@\\t\\r]|[",\\r\\n]' THEN (SELECT CASE WHEN t ~ E'[",\\r\\n]' THEN '"' || replace(t, '"', '""') || '"' ELSE t END FROM (SELECT ${neutral} AS t) n) ELSE ${expr} END`;
}

/**
 * SQL for cells that are nearly always plain (ids, type names): one test over all of them, and
 * csvSql for each only when some character could need it; joined with commas.
 */
export function csvCellsSql(exprs: string[]): string {
  const plain = exprs.join(" || ',' || ");
  return `CASE WHEN (${exprs.join(' || ')}) ~ E'[=+@\\t\\r",\\n-]' THEN ${exprs.map(csvSql).join(" || ',' || ")} ELSE ${plain} END`;
}
