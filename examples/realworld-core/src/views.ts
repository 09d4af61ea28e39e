// The JSON Conduit answers, built field by field in the order the RealWorld spec lists them. The
// monolith and the services both answer through these functions, so the same row gives the same bytes
// on either side (what shadow diffing compares).

/** A timestamp as the spec's `date-time`: ISO 8601 in UTC with milliseconds (`…T12:00:00.123Z`). */
export function timestamp(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export interface UserRow {
  id: number;
  username: string;
  email: string;
  bio: string;
  image: string;
}

export interface ProfileRow {
  username: string;
  bio: string;
  image: string;
  following: boolean;
}

export interface ArticleRow {
  slug: string;
  title: string;
  description: string;
  body: string;
  tag_list: string[] | null;
  created_at: Date | string;
  updated_at: Date | string;
  favorited: boolean;
  favorites_count: number;
  author_username: string;
  author_bio: string;
  author_image: string;
  author_following: boolean;
}

export interface CommentRow {
  id: number;
  created_at: Date | string;
  updated_at: Date | string;
  body: string;
  author_username: string;
  author_bio: string;
  author_image: string;
  author_following: boolean;
}

export function userView(user: UserRow, token: string) {
  return {
    email: user.email,
    token,
    username: user.username,
    bio: user.bio,
    image: user.image,
  };
}

export function profileView(row: ProfileRow) {
  return { username: row.username, bio: row.bio, image: row.image, following: row.following };
}

function authorOf(row: ArticleRow | CommentRow) {
  return profileView({
    username: row.author_username,
    bio: row.author_bio,
    image: row.author_image,
    following: row.author_following,
  });
}

/** A single article (with its body); `tagList` sorted, as the RealWorld suite expects. */
export function articleView(row: ArticleRow) {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    body: row.body,
    tagList: sortedTags(row.tag_list),
    createdAt: timestamp(row.created_at),
    updatedAt: timestamp(row.updated_at),
    favorited: row.favorited,
    favoritesCount: row.favorites_count,
    author: authorOf(row),
  };
}

/** An article in a list: the spec's MultipleArticlesResponse items carry no `body`. */
export function articleListItemView(row: ArticleRow) {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    tagList: sortedTags(row.tag_list),
    createdAt: timestamp(row.created_at),
    updatedAt: timestamp(row.updated_at),
    favorited: row.favorited,
    favoritesCount: row.favorites_count,
    author: authorOf(row),
  };
}

export function commentView(row: CommentRow) {
  return {
    id: row.id,
    createdAt: timestamp(row.created_at),
    updatedAt: timestamp(row.updated_at),
    body: row.body,
    author: authorOf(row),
  };
}

function sortedTags(tags: string[] | null): string[] {
  // Code-point order, not the database's collation, so every side sorts alike.
  return [...(tags ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
