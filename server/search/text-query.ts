// A boolean text query (words, "phrases", prefixes*, AND / OR / NOT), as the eDiscovery parser
// (compliance/ediscovery/query.ts) builds it, and its translation into a PostgreSQL tsquery.
// Search backends (backend.ts) take this tree, so the same query means the same on every backend.

/** A text expression: words, phrases and prefixes combined with AND, OR and NOT. */
export type TextNode =
  | { type: 'word'; text: string }
  | { type: 'phrase'; text: string }
  | { type: 'prefix'; text: string }
  | { type: 'not'; item: TextNode }
  | { type: 'and' | 'or'; items: TextNode[] };

/** Keeps only letters and digits of a prefix (a tsquery operand must not carry operators). */
export function prefixOperand(prefix: string): string | undefined {
  const clean = prefix.normalize('NFKC').replace(/[^\p{L}\p{N}]/gu, '');
  return clean || undefined;
}

/** SQL (with bindings) building the tsquery of a text expression; PostgreSQL's English configuration. */
export function tsquerySql(node: TextNode): { sql: string; bindings: string[] } {
  switch (node.type) {
    case 'word':
      return { sql: "plainto_tsquery('english', ?)", bindings: [node.text] };
    case 'phrase':
      return { sql: "phraseto_tsquery('english', ?)", bindings: [node.text] };
    case 'prefix': {
      const operand = prefixOperand(node.text);
      // A prefix with no letters or digits matches nothing rather than everything.
      return operand ? { sql: "to_tsquery('english', ?)", bindings: [`${operand}:*`] } : { sql: "plainto_tsquery('english', '')", bindings: [] };
    }
    case 'not': {
      const inner = tsquerySql(node.item);
      return { sql: `(!! ${inner.sql})`, bindings: inner.bindings };
    }
    default: {
      const parts = node.items.map(tsquerySql);
      return { sql: `(${parts.map((p) => p.sql).join(node.type === 'and' ? ' && ' : ' || ')})`, bindings: parts.flatMap((p) => p.bindings) };
    }
  }
}
