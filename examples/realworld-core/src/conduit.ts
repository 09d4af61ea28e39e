// The Conduit API as framework-neutral operations: each takes the caller (already identified by the
// framework binding: the monolith's own JWT check, Gatehouse's principal, or a forwarded identity),
// the path parameters, the query and the parsed body, and returns a status and a JSON value.
import type { Database, Queryable } from './database.js';
import { ConduitError, forbidden, notFound, unauthorized, unprocessable } from './errors.js';
import type { Reply } from './http.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { Tokens } from './tokens.js';
import {
  type ArticleRow,
  articleListItemView,
  articleView,
  type CommentRow,
  commentView,
  type ProfileRow,
  profileView,
  type UserRow,
  userView,
} from './views.js';

/** One request to an operation. */
export interface ConduitRequest {
  /** The caller's user id, or undefined for an anonymous request. */
  viewer: number | undefined;
  /** The credential the request carried (`/user` answers with it). */
  token: string | undefined;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  /**
   * The API version the caller asked for (the `api-version` header, read by Gatehouse's versioning);
   * 1 when none. Only the tag list has a version 2.
   */
  apiVersion?: number;
}

export interface ConduitOptions {
  db: Database;
  /** Needed by the user operations (registration and login issue tokens); the services have none. */
  tokens?: Tokens;
}

const UNIQUE_VIOLATION = '23505';
/**
 * How long a cache may keep an anonymous profile: a changed bio shows within 30 s. Not `public`: the
 * gateway's response cache then keeps it per caller (the principal gw.auth() found, else one entry
 * for every anonymous caller), so a signed-in caller is never handed the anonymous view.
 */
export const ANONYMOUS_PROFILE_CACHE = 'max-age=30';
const MAX_LIMIT = 1000;

// Every article query selects the same columns, for a viewer given as $1 (NULL when anonymous).
const ARTICLE_COLUMNS = `
  a.slug, a.title, a.description, a.body,
  ARRAY(SELECT t.tag FROM article_tags t WHERE t.article_id = a.id) AS tag_list,
  a.created_at, a.updated_at,
  EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = $1::int) AS favorited,
  (SELECT count(*)::int FROM favorites f WHERE f.article_id = a.id) AS favorites_count,
  u.username AS author_username, u.bio AS author_bio, u.image AS author_image,
  EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = $1::int AND fo.followee_id = u.id) AS author_following`;

const COMMENT_COLUMNS = `
  c.id, c.created_at, c.updated_at, c.body,
  u.username AS author_username, u.bio AS author_bio, u.image AS author_image,
  EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = $1::int AND fo.followee_id = u.id) AS author_following`;

export type Conduit = ReturnType<typeof createConduit>;

/** The operations, bound to a database (and, for the user operations, a token issuer). */
export function createConduit(options: ConduitOptions) {
  const { db } = options;

  function tokens(): Tokens {
    if (options.tokens === undefined) throw new Error('this process has no token issuer (user operations)');
    return options.tokens;
  }

  function requireViewer(request: ConduitRequest): number {
    if (request.viewer === undefined) throw unauthorized();
    return request.viewer;
  }

  async function userById(q: Queryable, id: number): Promise<UserRow | undefined> {
    const rows = await q.query<UserRow>('SELECT id, username, email, bio, image FROM users WHERE id = $1', [
      id,
    ]);
    return rows[0];
  }

  async function profileByUsername(viewer: number | undefined, username: string) {
    const rows = await db.query<ProfileRow & { id: number }>(
      `SELECT u.id, u.username, u.bio, u.image,
        EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = $1::int AND fo.followee_id = u.id) AS following
       FROM users u WHERE u.username = $2`,
      [viewer ?? null, username],
    );
    const row = rows[0];
    if (row === undefined) throw notFound('profile');
    return row;
  }

  async function articleBySlug(q: Queryable, viewer: number | undefined, slug: string) {
    const rows = await q.query<ArticleRow & { id: number; author_id: number }>(
      `SELECT a.id, a.author_id, ${ARTICLE_COLUMNS} FROM articles a JOIN users u ON u.id = a.author_id
       WHERE a.slug = $2`,
      [viewer ?? null, slug],
    );
    const row = rows[0];
    if (row === undefined) throw notFound('article');
    return row;
  }

  async function articleIdBySlug(q: Queryable, slug: string) {
    const rows = await q.query<{ id: number; author_id: number }>(
      'SELECT id, author_id FROM articles WHERE slug = $1',
      [slug],
    );
    const row = rows[0];
    if (row === undefined) throw notFound('article');
    return row;
  }

  async function listArticles(viewer: number | undefined, filters: ArticleFilters): Promise<Reply> {
    // The page query numbers the viewer $1 and the filters after it; the count needs no viewer.
    const page = filterSql(filters, 2);
    const count = filterSql(filters, 1);
    const n = page.params.length + 2;
    const [rows, counted] = await Promise.all([
      db.query<ArticleRow>(
        `SELECT ${ARTICLE_COLUMNS} FROM articles a JOIN users u ON u.id = a.author_id ${page.condition}
         ORDER BY a.created_at DESC, a.id DESC LIMIT $${n} OFFSET $${n + 1}`,
        [viewer ?? null, ...page.params, filters.limit, filters.offset],
      ),
      db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM articles a JOIN users u ON u.id = a.author_id ${count.condition}`,
        count.params,
      ),
    ]);
    return {
      status: 200,
      body: { articles: rows.map(articleListItemView), articlesCount: counted[0]?.n ?? 0 },
    };
  }

  /** Inserts under a slug made from the title, suffixed `-2`, `-3`… until one is free. */
  async function insertArticle(tx: Queryable, author: number, fields: NewArticleFields): Promise<number> {
    const base = slugify(fields.title);
    const taken = new Set(
      (
        await tx.query<{ slug: string }>(`SELECT slug FROM articles WHERE slug = $1 OR slug LIKE $2`, [
          base,
          `${escapeLike(base)}-%`,
        ])
      ).map((r) => r.slug),
    );
    for (let n = 1; ; n++) {
      const slug = n === 1 ? base : `${base}-${n}`;
      if (taken.has(slug)) continue;
      const inserted = await tx.query<{ id: number }>(
        `INSERT INTO articles (slug, title, description, body, author_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (slug) DO NOTHING RETURNING id`,
        [slug, fields.title, fields.description, fields.body, author],
      );
      if (inserted[0] !== undefined) return inserted[0].id;
      taken.add(slug); // taken by a concurrent insert since the SELECT
    }
  }

  async function reslug(tx: Queryable, id: number, title: string): Promise<void> {
    const base = slugify(title);
    for (let n = 1; ; n++) {
      const slug = n === 1 ? base : `${base}-${n}`;
      const rows = await tx.query<{ id: number }>(
        `UPDATE articles SET slug = $1 WHERE id = $2
           AND NOT EXISTS (SELECT 1 FROM articles WHERE slug = $1 AND id <> $2) RETURNING id`,
        [slug, id],
      );
      if (rows[0] !== undefined) return;
    }
  }

  return {
    // ---- users (stay in the monolith: they issue tokens) ----

    async register(request: ConduitRequest): Promise<Reply> {
      const user = objectField(request.body, 'user');
      const username = requiredString(user, 'username');
      const email = requiredString(user, 'email');
      const password = requiredString(user, 'password');
      const clash = await db.query<{ username: string; email: string }>(
        'SELECT username, email FROM users WHERE username = $1 OR lower(email) = lower($2)',
        [username, email],
      );
      const problems: string[] = [];
      if (clash.some((u) => u.email.toLowerCase() === email.toLowerCase()))
        problems.push('email has already been taken');
      if (clash.some((u) => u.username === username)) problems.push('username has already been taken');
      if (problems.length > 0) throw unprocessable(...problems);
      const hash = await hashPassword(password);
      let created: UserRow | undefined;
      try {
        created = (
          await db.query<UserRow>(
            `INSERT INTO users (username, email, password_hash) VALUES ($1, $2, $3)
             RETURNING id, username, email, bio, image`,
            [username, email, hash],
          )
        )[0];
      } catch (error) {
        throw uniqueViolation(error) ?? error;
      }
      const row = created!;
      return { status: 201, body: { user: userView(row, await tokens().sign(row.id)) } };
    },

    async login(request: ConduitRequest): Promise<Reply> {
      const user = objectField(request.body, 'user');
      const email = requiredString(user, 'email');
      const password = requiredString(user, 'password');
      const rows = await db.query<UserRow & { password_hash: string }>(
        'SELECT id, username, email, bio, image, password_hash FROM users WHERE lower(email) = lower($1)',
        [email],
      );
      const row = rows[0];
      if (row === undefined || !(await verifyPassword(password, row.password_hash))) {
        throw new ConduitError(401, ['email or password is invalid']);
      }
      return { status: 200, body: { user: userView(row, await tokens().sign(row.id)) } };
    },

    async currentUser(request: ConduitRequest): Promise<Reply> {
      const user = await userById(db, requireViewer(request));
      if (user === undefined) throw unauthorized();
      return { status: 200, body: { user: userView(user, request.token ?? '') } };
    },

    async updateUser(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const changes = objectField(request.body, 'user');
      const email = optionalString(changes, 'email', { blank: false });
      const username = optionalString(changes, 'username', { blank: false });
      const password = optionalString(changes, 'password', { blank: false });
      const bio = optionalString(changes, 'bio', { blank: true, nullAsEmpty: true });
      const image = optionalString(changes, 'image', { blank: true, nullAsEmpty: true });
      const hash = password === undefined ? null : await hashPassword(password);
      let updated: UserRow | undefined;
      try {
        updated = (
          await db.query<UserRow>(
            `UPDATE users SET email = COALESCE($2, email), username = COALESCE($3, username),
               password_hash = COALESCE($4, password_hash), bio = COALESCE($5, bio), image = COALESCE($6, image)
             WHERE id = $1 RETURNING id, username, email, bio, image`,
            [viewer, email ?? null, username ?? null, hash, bio ?? null, image ?? null],
          )
        )[0];
      } catch (error) {
        throw uniqueViolation(error) ?? error;
      }
      if (updated === undefined) throw unauthorized();
      return { status: 200, body: { user: userView(updated, request.token ?? '') } };
    },

    // ---- profiles and tags ----

    async getProfile(request: ConduitRequest): Promise<Reply> {
      const row = await profileByUsername(request.viewer, request.params.username!);
      // The same for every anonymous caller: a cache (the gateway's, for the article screen) may keep
      // it briefly. A caller's own view says whether they follow: theirs alone.
      const cacheControl = request.viewer === undefined ? ANONYMOUS_PROFILE_CACHE : 'private';
      return { status: 200, body: { profile: profileView(row) }, cacheControl };
    },

    async follow(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const row = await profileByUsername(viewer, request.params.username!);
      if (row.id === viewer) throw unprocessable('you cannot follow yourself');
      await db.query(
        'INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [viewer, row.id],
      );
      return { status: 200, body: { profile: profileView({ ...row, following: true }) } };
    },

    async unfollow(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const row = await profileByUsername(viewer, request.params.username!);
      await db.query('DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2', [viewer, row.id]);
      return { status: 200, body: { profile: profileView({ ...row, following: false }) } };
    },

    async listTags(request: ConduitRequest): Promise<Reply> {
      const rows = await db.query<{ tag: string; n: number }>(
        'SELECT tag, count(*)::int AS n FROM article_tags GROUP BY tag',
      );
      // Most used first, then code-point order: the same on every database collation.
      rows.sort((a, b) => b.n - a.n || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
      // Version 2 says how many articles carry each tag (the popular-tags sidebar); version 1 is the
      // RealWorld list of names.
      if ((request.apiVersion ?? 1) >= 2)
        return { status: 200, body: { tags: rows.map((r) => ({ name: r.tag, articles: r.n })) } };
      return { status: 200, body: { tags: rows.map((r) => r.tag) } };
    },

    // ---- articles, favorites, comments ----

    async listArticles(request: ConduitRequest): Promise<Reply> {
      const q = request.query;
      return listArticles(request.viewer, {
        ...page(q),
        tag: singleParam(q, 'tag'),
        author: singleParam(q, 'author'),
        favorited: singleParam(q, 'favorited'),
      });
    },

    async feed(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      return listArticles(viewer, { ...page(request.query), feedOf: viewer });
    },

    async getArticle(request: ConduitRequest): Promise<Reply> {
      const row = await articleBySlug(db, request.viewer, request.params.slug!);
      return { status: 200, body: { article: articleView(row) } };
    },

    async createArticle(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const input = objectField(request.body, 'article');
      const fields = {
        title: requiredString(input, 'title'),
        description: requiredString(input, 'description'),
        body: requiredString(input, 'body'),
      };
      const tags = tagList(input);
      const row = await db.transaction(async (tx) => {
        const id = await insertArticle(tx, viewer, fields);
        if (tags.length > 0) {
          await tx.query(
            'INSERT INTO article_tags (article_id, tag) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
            [id, tags],
          );
        }
        return (
          await tx.query<ArticleRow>(
            `SELECT ${ARTICLE_COLUMNS} FROM articles a JOIN users u ON u.id = a.author_id WHERE a.id = $2`,
            [viewer, id],
          )
        )[0]!;
      });
      return { status: 201, body: { article: articleView(row) } };
    },

    async updateArticle(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const input = objectField(request.body, 'article');
      const title = optionalString(input, 'title', { blank: false });
      const description = optionalString(input, 'description', { blank: false });
      const body = optionalString(input, 'body', { blank: false });
      const row = await db.transaction(async (tx) => {
        const { id, author_id } = await articleIdBySlug(tx, request.params.slug!);
        if (author_id !== viewer) throw forbidden('only the author can change an article');
        await tx.query(
          `UPDATE articles SET title = COALESCE($2, title), description = COALESCE($3, description),
             body = COALESCE($4, body), updated_at = now() WHERE id = $1`,
          [id, title ?? null, description ?? null, body ?? null],
        );
        if (title !== undefined) await reslug(tx, id, title);
        return (
          await tx.query<ArticleRow>(
            `SELECT ${ARTICLE_COLUMNS} FROM articles a JOIN users u ON u.id = a.author_id WHERE a.id = $2`,
            [viewer, id],
          )
        )[0]!;
      });
      return { status: 200, body: { article: articleView(row) } };
    },

    async deleteArticle(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const { id, author_id } = await articleIdBySlug(db, request.params.slug!);
      if (author_id !== viewer) throw forbidden('only the author can delete an article');
      await db.query('DELETE FROM articles WHERE id = $1', [id]);
      return { status: 204 };
    },

    async favorite(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const { id } = await articleIdBySlug(db, request.params.slug!);
      await db.query('INSERT INTO favorites (user_id, article_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        viewer,
        id,
      ]);
      return {
        status: 200,
        body: { article: articleView(await articleBySlug(db, viewer, request.params.slug!)) },
      };
    },

    async unfavorite(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const { id } = await articleIdBySlug(db, request.params.slug!);
      await db.query('DELETE FROM favorites WHERE user_id = $1 AND article_id = $2', [viewer, id]);
      return {
        status: 200,
        body: { article: articleView(await articleBySlug(db, viewer, request.params.slug!)) },
      };
    },

    async listComments(request: ConduitRequest): Promise<Reply> {
      const { id } = await articleIdBySlug(db, request.params.slug!);
      const rows = await db.query<CommentRow>(
        `SELECT ${COMMENT_COLUMNS} FROM comments c JOIN users u ON u.id = c.author_id
         WHERE c.article_id = $2 ORDER BY c.created_at, c.id`,
        [request.viewer ?? null, id],
      );
      return { status: 200, body: { comments: rows.map(commentView) } };
    },

    async addComment(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const input = objectField(request.body, 'comment');
      const body = requiredString(input, 'body');
      const { id } = await articleIdBySlug(db, request.params.slug!);
      const rows = await db.query<CommentRow>(
        `WITH c AS (INSERT INTO comments (article_id, author_id, body) VALUES ($2, $1, $3) RETURNING *)
         SELECT ${COMMENT_COLUMNS} FROM c JOIN users u ON u.id = c.author_id`,
        [viewer, id, body],
      );
      return { status: 200, body: { comment: commentView(rows[0]!) } };
    },

    async deleteComment(request: ConduitRequest): Promise<Reply> {
      const viewer = requireViewer(request);
      const { id: articleId } = await articleIdBySlug(db, request.params.slug!);
      const commentId = /^[1-9][0-9]{0,9}$/.test(request.params.id!) ? Number(request.params.id) : undefined;
      const rows =
        commentId === undefined || commentId > 2_147_483_647
          ? []
          : await db.query<{ author_id: number }>(
              'SELECT author_id FROM comments WHERE id = $1 AND article_id = $2',
              [commentId, articleId],
            );
      const comment = rows[0];
      if (comment === undefined) throw notFound('comment');
      if (comment.author_id !== viewer) throw forbidden('only the author can delete a comment');
      await db.query('DELETE FROM comments WHERE id = $1', [commentId]);
      return { status: 204 };
    },
  };
}

interface ArticleFilters {
  limit: number;
  offset: number;
  tag?: string | undefined;
  author?: string | undefined;
  favorited?: string | undefined;
  feedOf?: number;
}

/** The WHERE clause for a list's filters, with placeholders numbered from `first`. */
function filterSql(filters: ArticleFilters, first: number): { condition: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (value: unknown, sql: (placeholder: string) => string) => {
    where.push(sql(`$${first + params.length}`));
    params.push(value);
  };
  if (filters.tag !== undefined)
    add(
      filters.tag,
      (p) => `EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id AND t.tag = ${p})`,
    );
  if (filters.author !== undefined) add(filters.author, (p) => `u.username = ${p}`);
  if (filters.favorited !== undefined)
    add(
      filters.favorited,
      (p) => `EXISTS (SELECT 1 FROM favorites f JOIN users fu ON fu.id = f.user_id
              WHERE f.article_id = a.id AND fu.username = ${p})`,
    );
  if (filters.feedOf !== undefined)
    add(filters.feedOf, (p) => `a.author_id IN (SELECT followee_id FROM follows WHERE follower_id = ${p})`);
  return { condition: where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`, params };
}

interface NewArticleFields {
  title: string;
  description: string;
  body: string;
}

/** `limit` (1–1000, default 20) and `offset` (≥ 0, default 0) from the query. */
function page(query: URLSearchParams): { limit: number; offset: number } {
  const limit = integerParam(query, 'limit', 20);
  const offset = integerParam(query, 'offset', 0);
  if (limit < 1 || limit > MAX_LIMIT) throw unprocessable(`limit must be between 1 and ${MAX_LIMIT}`);
  return { limit, offset };
}

function integerParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = singleParam(query, name);
  if (raw === undefined) return fallback;
  if (!/^[0-9]{1,9}$/.test(raw)) throw unprocessable(`${name} must be a non-negative integer`);
  return Number(raw);
}

/** One query parameter; sent twice it is ambiguous, and refused rather than guessed. */
function singleParam(query: URLSearchParams, name: string): string | undefined {
  const values = query.getAll(name);
  if (values.length > 1) throw unprocessable(`${name} may be given once`);
  return values[0];
}

function objectField(body: unknown, key: string): Record<string, unknown> {
  const value = isObject(body) ? body[key] : undefined;
  if (!isObject(value)) throw unprocessable(`${key} can't be blank`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredString(input: Record<string, unknown>, field: string): string {
  const value = Object.hasOwn(input, field) ? input[field] : undefined;
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === ''))
    throw unprocessable(`${field} can't be blank`);
  if (typeof value !== 'string') throw unprocessable(`${field} must be a string`);
  return value;
}

function optionalString(
  input: Record<string, unknown>,
  field: string,
  rules: { blank: boolean; nullAsEmpty?: boolean },
): string | undefined {
  if (!Object.hasOwn(input, field)) return undefined;
  const value = input[field];
  if (value === null && rules.nullAsEmpty) return '';
  if (typeof value !== 'string') throw unprocessable(`${field} must be a string`);
  if (!rules.blank && value.trim() === '') throw unprocessable(`${field} can't be blank`);
  return value;
}

function tagList(input: Record<string, unknown>): string[] {
  if (!Object.hasOwn(input, 'tagList') || input.tagList === null) return [];
  const list = input.tagList;
  if (!Array.isArray(list) || !list.every((t) => typeof t === 'string'))
    throw unprocessable('tagList must be a list of strings');
  return [...new Set(list.map((t) => t.trim()).filter((t) => t !== ''))];
}

/** A URL-safe slug from a title: lower case, accents removed, runs of other characters as one `-`. */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return slug === '' ? 'article' : slug;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A unique-constraint failure on users, as the 422 a concurrent registration deserves. */
function uniqueViolation(error: unknown): ConduitError | undefined {
  const { code, constraint } = (error ?? {}) as { code?: string; constraint?: string };
  if (code !== UNIQUE_VIOLATION) return undefined;
  return unprocessable(
    constraint?.includes('email') ? 'email has already been taken' : 'username has already been taken',
  );
}
