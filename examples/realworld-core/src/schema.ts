// Conduit's tables. Every process that opens the database (the monolith and each service) may call
// migrate() at start-up; an advisory lock makes concurrent calls take turns instead of racing on
// CREATE … IF NOT EXISTS (which is not safe against a concurrent creator in PostgreSQL).
import type { Database } from './database.js';

const MIGRATION_LOCK = 20_4242;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id            serial PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  email         text NOT NULL,
  password_hash text NOT NULL,
  bio           text NOT NULL DEFAULT '',
  image         text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower ON users (lower(email));

CREATE TABLE IF NOT EXISTS follows (
  follower_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  followee_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (follower_id, followee_id)
);

CREATE TABLE IF NOT EXISTS articles (
  id          serial PRIMARY KEY,
  slug        text NOT NULL UNIQUE,
  title       text NOT NULL,
  description text NOT NULL,
  body        text NOT NULL,
  author_id   integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS articles_created ON articles (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS articles_author ON articles (author_id);

CREATE TABLE IF NOT EXISTS article_tags (
  article_id integer NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  tag        text NOT NULL,
  PRIMARY KEY (article_id, tag)
);
CREATE INDEX IF NOT EXISTS article_tags_tag ON article_tags (tag);

CREATE TABLE IF NOT EXISTS favorites (
  user_id    integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  article_id integer NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, article_id)
);
CREATE INDEX IF NOT EXISTS favorites_article ON favorites (article_id);

CREATE TABLE IF NOT EXISTS comments (
  id         serial PRIMARY KEY,
  article_id integer NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
  author_id  integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  body       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS comments_article ON comments (article_id, id);
`;

/** Creates Conduit's tables when they are missing; safe to call from several processes at once. */
export async function migrate(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    for (const statement of SCHEMA.split(';')) {
      if (statement.trim() !== '') await tx.query(statement);
    }
  });
}
