// Review-platform load files: Concordance DAT (field separator U+0014, text qualifier þ U+00FE,
// in-field newlines as ® U+00AE, rows ended by CRLF, UTF-8 with a byte order mark) and the same table
// as RFC 4180 CSV with spreadsheet formula injection neutralised.

/** The columns of both load files, in order. */
export const loadFileFields = [
  'DOCID', 'PARENTDOCID', 'ITEMTYPE', 'STATE', 'CUSTODIAN', 'FROM', 'TO', 'PARTICIPANTS', 'TEAM', 'CHANNEL', 'CHANNELTYPE',
  'DATESENT', 'DATEVERSION', 'DATEREPLACED', 'DATEDELETED', 'SUBJECT', 'ATTACHCOUNT', 'ATTACHNAMES', 'POSTID', 'VERSIONID',
  'NATIVEPATH', 'SHA256',
] as const;

export type LoadFileRow = Record<(typeof loadFileFields)[number], string>;

export const DAT_SEPARATOR = '\u0014';
export const DAT_QUOTE = '\u00fe';
export const DAT_NEWLINE = '\u00ae';
export const BOM = '\ufeff';

/** One DAT line: every value qualified with þ, separated by U+0014; newlines inside values become ®. */
export function datLine(values: readonly string[]): string {
  return values
    .map((v) => {
      const clean = v.toWellFormed().replace(/\r\n|\r|\n/g, DAT_NEWLINE).replaceAll(DAT_QUOTE, '').replaceAll(DAT_SEPARATOR, ' ');
      return `${DAT_QUOTE}${clean}${DAT_QUOTE}`;
    })
    .join(DAT_SEPARATOR) + '\r\n';
}

/** One CSV line (RFC 4180); a value starting with = + - @ (or a tab or CR) is prefixed with ' so no spreadsheet runs it. */
export function csvLine(values: readonly string[]): string {
  return values
    .map((v) => {
      let text = v.toWellFormed();
      if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
      return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(',') + '\r\n';
}

/** Reads a DAT file back into rows of values (for tests and for `export verify`-style checks). */
export function parseDat(text: string): string[][] {
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  return body
    .split('\r\n')
    .filter((line) => line.length > 0)
    .map((line) =>
      line.split(DAT_SEPARATOR).map((field) => {
        if (!field.startsWith(DAT_QUOTE) || !field.endsWith(DAT_QUOTE) || field.length < 2) throw new Error(`DAT field not qualified with þ: ${JSON.stringify(field)}`);
        return field.slice(1, -1);
      }),
    );
}
