// The search backend contract: PostgreSQL full-text search (the default: stored tsvectors + GIN, in
// the database itself) or OpenSearch (for very large sites). Both index every post and every prior
// version of a post whose text changed, and answer the same query with the same hits in the same
// order; test/search/backend-contract.ts holds them to it.
import type { TextNode } from './text-query.ts';

/** What a backend is asked: text and filters over posts (and their prior versions). */
export interface BackendQuery {
  text?: TextNode;
  /** Only these channels (e.g. those the searcher may read); undefined: every channel. */
  channelIds?: string[];
  excludeChannelIds?: string[];
  /** Only channels of these teams. */
  teamIds?: string[];
  userIds?: string[];
  excludeUserIds?: string[];
  /** Sent at or after, and before (epoch ms). */
  from?: number;
  to?: number;
  hasFile?: boolean;
  includeDeleted: boolean;
  includeVersions: boolean;
  offset: number;
  limit: number;
}

/** One hit: a post as it is now (version_id 0) or one of its prior versions. */
export interface BackendHit {
  post_id: string;
  version_id: number;
}

export interface BackendResult {
  total: number;
  hits: BackendHit[];
}

/** A document as a backend indexes it. */
export interface SearchDocument {
  post_id: string;
  /** 0 for the post as it is now, else the post_versions id. */
  version_id: number;
  message: string;
  channel_id: string;
  team_id: string;
  user_id: string;
  root_id: string;
  create_at: number;
  delete_at: number;
  has_file: boolean;
}

/**
 * Results are newest sent first, then by post id (descending), the current post before its prior
 * versions, prior versions newest first: the order every backend keeps.
 */
export interface SearchBackend {
  readonly name: string;
  search(query: BackendQuery): Promise<BackendResult>;
  /** Adds or replaces documents (bulk). */
  index(documents: SearchDocument[]): Promise<void>;
  /** Removes every document of these posts (the post and its versions). */
  removePosts(postIds: string[]): Promise<void>;
  /** Makes indexed documents visible to searches (a no-op where writes are visible at once). */
  refresh(): Promise<void>;
}
