/** Where and as whom to connect to PostgreSQL. */
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The two connections Custodian uses: the owner runs migrations, the app role serves requests. */
export interface DatabaseTargets {
  owner: PgTarget | string;
  app: PgTarget | string;
}
