/**
 * Escapes a value for use inside an LDAP search filter (RFC 4515 §3): `*`, `(`, `)`, `\` and NUL become
 * `\2a`, `\28`, `\29`, `\5c` and `\00`, so a login id can never add filter syntax.
 */
export function escapeFilterValue(value: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is one of the characters RFC 4515 escapes
  return value.replace(/[*()\\\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Escapes a value for use as an attribute value in a distinguished name (RFC 4514 §2.4): the
 * characters `" + , ; < > \` and `=` get a backslash, as do a leading space or `#` and a trailing
 * space; NUL becomes `\00`.
 */
export function escapeDnValue(value: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is escaped as RFC 4514 requires
  let out = value.replace(/["+,;<>\\=]/g, (c) => `\\${c}`).replace(/\u0000/g, '\\00');
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** A DN in a comparable form: lowercased, no spaces around separators. Good enough to match member values. */
export function normalizeDn(dn: string): string {
  return dn.split(/(?<!\\),/).map((rdn) => rdn.trim().replace(/\s*=\s*/, '=')).join(',').toLowerCase();
}
