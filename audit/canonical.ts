// JSON Canonicalization Scheme (RFC 8785): object members sorted by their names' UTF-16 code units, no
// whitespace, strings and numbers serialized as ECMAScript's JSON.stringify does. Hashes and signatures
// are computed over these bytes, so any implementation of RFC 8785 reproduces them.

/** Thrown for values RFC 8785 cannot represent (non-finite numbers, bigints, lone surrogates...). */
export class CanonicalJsonError extends TypeError {}

// Printable ASCII without '"' and '\': such strings serialize as themselves between quotes, which is
// most of an audit record and much cheaper than JSON.stringify per string.
const plain = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function serializeString(value: string): string {
  if (plain.test(value)) return `"${value}"`;
  if (!value.isWellFormed()) throw new CanonicalJsonError('strings must be well-formed Unicode (no lone surrogates)');
  return JSON.stringify(value);
}

function serialize(value: unknown): string {
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
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i) out += ',';
          out += value[i] === undefined ? 'null' : serialize(value[i]);
        }
        return out + ']';
      }
      const toJSON = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') return serialize(toJSON.call(value));
      const record = value as Record<string, unknown>;
      // The default sort compares UTF-16 code units, as RFC 8785 requires.
      const names = Object.keys(record).sort();
      let out = '{';
      for (const name of names) {
        const item = record[name];
        if (item === undefined) continue;
        if (out.length > 1) out += ',';
        out += serializeString(name) + ':' + serialize(item);
      }
      return out + '}';
    }
    default:
      throw new CanonicalJsonError(`cannot canonicalize a ${typeof value}`);
  }
}

/** The RFC 8785 canonical JSON text of `value`. Members whose value is undefined are left out. */
export function canonicalJson(value: unknown): string {
  return serialize(value);
}
