/** A legal_holds row. */
export interface HoldRow {
  id: string;
  name: string;
  current_version: number;
  create_at: number;
  created_by: string;
  update_at: number;
  released_at: number;
  released_by: string;
}

/** A legal_hold_versions row (query_tsquery is left out of reads). */
export interface HoldVersionRow {
  hold_id: string;
  version: number;
  display_name: string;
  description: string;
  starts_at: number;
  ends_at: number;
  query: string;
  released: boolean;
  comment: string;
  create_at: number;
  created_by: string;
}

export interface HoldScope {
  user_ids: string[];
  group_ids: string[];
  channel_ids: string[];
}

/** One version of a hold, as the API shows it. */
export interface HoldVersionJson extends HoldScope {
  version: number;
  display_name: string;
  description: string;
  starts_at: number;
  ends_at: number;
  query: string;
  released: boolean;
  comment: string;
  create_at: number;
  created_by: string;
}

/** A hold as the API shows it: its current version's fields, plus (on GET by id) every version. */
export interface HoldJson extends HoldVersionJson {
  id: string;
  name: string;
  status: 'active' | 'released';
  /** When the hold was first created (the version's create_at is when this version was). */
  hold_create_at: number;
  hold_created_by: string;
  update_at: number;
  released_at: number;
  released_by: string;
  versions?: HoldVersionJson[];
}

export function presentVersion(v: HoldVersionRow, scope: HoldScope): HoldVersionJson {
  return {
    version: v.version, display_name: v.display_name, description: v.description, starts_at: Number(v.starts_at), ends_at: Number(v.ends_at),
    query: v.query, released: v.released, comment: v.comment, create_at: Number(v.create_at), created_by: v.created_by,
    user_ids: [...scope.user_ids].sort(), group_ids: [...scope.group_ids].sort(), channel_ids: [...scope.channel_ids].sort(),
  };
}

export function presentHold(hold: HoldRow, current: HoldVersionJson, versions?: HoldVersionJson[]): HoldJson {
  return {
    ...current,
    id: hold.id, name: hold.name, status: Number(hold.released_at) > 0 ? 'released' : 'active',
    hold_create_at: Number(hold.create_at), hold_created_by: hold.created_by, update_at: Number(hold.update_at),
    released_at: Number(hold.released_at), released_by: hold.released_by,
    ...(versions ? { versions } : {}),
  };
}
