import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/logger.ts';
import { resetIndexState, saveIndexPosition } from '../search/index-state.ts';
import { OpenSearchBackend, reindexFromDatabase } from '../search/opensearch-backend.ts';
import { withOwnerDatabase } from './database.ts';

export const searchUsage = `  search reindex [--keep]             Rebuild the OpenSearch index (CUSTODIAN_OPENSEARCH_URL) from PostgreSQL in
                                      bulk; --keep indexes into the existing index instead of starting afresh`;

const write = (line: string) => process.stdout.write(line + '\n');

/** `custodian search reindex`. Returns the exit code. */
export async function searchCommand(args: string[], loadConfig: () => Promise<Config>, logger: (config: Config) => Logger, usageError: (message: string) => Error): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'reindex') throw usageError(`Unknown search command "${sub ?? ''}". Use reindex.`);
  const { values } = parseArgs({ args: rest, options: { keep: { type: 'boolean' } } });
  const config = await loadConfig();
  if (!config.opensearchUrl) {
    write('No search index to rebuild: CUSTODIAN_OPENSEARCH_URL is not set, and PostgreSQL keeps its full-text index itself.');
    return 1;
  }
  const backend = new OpenSearchBackend({ url: config.opensearchUrl, index: config.opensearchIndex });
  try {
    const started = performance.now();
    const done = await withOwnerDatabase(config, logger(config), async (db) => {
      // Running servers search PostgreSQL while the index is rebuilt, and use it again once it is whole.
      if (!values.keep) {
        await resetIndexState(db, config.opensearchIndex);
        await backend.dropIndex();
      }
      await backend.ensureIndex();
      const reached = await reindexFromDatabase(db, backend, { batchSize: 2000, onBatch: (n) => process.stdout.write(`\r  ${n} documents`) });
      await saveIndexPosition(db, config.opensearchIndex, reached, true);
      return reached;
    });
    write(`\nIndexed ${done.documents} documents into ${config.opensearchIndex} in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
    return 0;
  } finally {
    await backend.close();
  }
}
