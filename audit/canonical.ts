// JSON Canonicalization Scheme (RFC 8785): object members sorted by their names' UTF-16 code units, no
// whitespace, strings and numbers serialized as ECMAScript's JSON.stringify does. Hashes and signatures
// are computed over these bytes, so any implementation of RFC 8785 reproduces them.

/** Thrown for values RFC 8785 cannot represent (non-finite numbers, bigints, lone surrogates...). */
export class CanonicalJsonError extends TypeError {}

function serializeString(value: string): string {
  if (!value.isWellFormed()) throw new CanonicalJsonError('strings must be well-formed Unicode (no lone surrogates)');
  return JSON.stringify(value);
}

/** The RFC 8785 canonical JSON text of `value`. Members whose value is undefined are left out. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return serializeString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError('numbers must be finite');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
      const toJSON = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') return canonicalJson(toJSON.call(value));
      const record = value as Record<string, unknown>;
      const names = Object.keys(record).filter((name) => record[name] !== undefined).sort();
      return `{${names.map((name) => `${serializeString(name)}:${canonicalJson(record[name])}`).join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(`cannot canonicalize a ${typeof value}`);
  }
}
