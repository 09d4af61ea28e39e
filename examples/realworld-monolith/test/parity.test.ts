// The Koa services answer byte-for-byte what the Express monolith answers for the same request: the
// same status, content type and body bytes (field order, timestamps, errors), for anonymous and
// authenticated callers, for reads and for refusals. This is what shadow diffing will rely on.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresMissing } from './postgres.js';
import { type Showcase, setGroupsMode, startShowcase } from './support.js';

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
  /** Response header names, less those that differ per request or per hop by nature. */
  headerNames: string[];
}

/** An answer and the request id the gateway gave it (never compared: it differs per request). */
interface Traced {
  answer: Answer;
  requestId: string | null;
}

interface Probe {
  name: string;
  method: string;
  path: string;
  as?: 'alice' | 'bob';
  body?: string;
  contentType?: string;
}

const PER_REQUEST = new Set([
  'date',
  'x-request-id',
  'ratelimit',
  'ratelimit-policy',
  'connection',
  'keep-alive',
]);

// Without OpenAPI validation at the edge: it would refuse some of the malformed probes itself (the
// same problem in either mode), and this file is about what the monolith and the services answer.
const showcase = await startShowcase('parity', { openapi: false });

if (typeof showcase === 'string') {
  postgresMissing('examples/realworld-monolith/test/parity.test.ts', showcase);
} else {
  describe('monolith and services answer the same bytes', () => {
    const sc: Showcase = showcase;
    const base = `${sc.stack.urls.monolith}/api`;
    const tokens: Record<'alice' | 'bob', string> = { alice: '', bob: '' };
    let slug = '';
    let otherSlug = '';
    let commentId = 0;

    async function call(probe: Probe): Promise<Answer> {
      return (await traced(probe)).answer;
    }

    async function traced(probe: Probe): Promise<Traced> {
      const headers: Record<string, string> = {};
      if (probe.as) headers.authorization = `Token ${tokens[probe.as]}`;
      if (probe.body !== undefined) headers['content-type'] = probe.contentType ?? 'application/json';
      const res = await fetch(`${base}${probe.path}`, {
        method: probe.method,
        headers,
        ...(probe.body === undefined ? {} : { body: probe.body }),
      });
      const answer = {
        status: res.status,
        contentType: res.headers.get('content-type'),
        body: await res.text(),
        headerNames: [...res.headers.keys()].filter((h) => !PER_REQUEST.has(h)).sort(),
      };
      return { answer, requestId: res.headers.get('x-request-id') };
    }

    async function json(probe: Probe): Promise<Record<string, Record<string, unknown>>> {
      const answer = await call(probe);
      expect(answer.status, `${probe.method} ${probe.path}: ${answer.body}`).toBeLessThan(300);
      return JSON.parse(answer.body);
    }

    beforeAll(async () => {
      await setGroupsMode(sc.stack, 'local');
      for (const name of ['alice', 'bob'] as const) {
        const registered = await json({
          name: 'register',
          method: 'POST',
          path: '/users',
          body: JSON.stringify({
            user: { username: name, email: `${name}@example.test`, password: 'pw-123456' },
          }),
        });
        tokens[name] = registered.user!.token as string;
      }
      const article = (title: string, tagList: string[]) =>
        json({
          name: 'create',
          method: 'POST',
          path: '/articles',
          as: 'alice',
          body: JSON.stringify({ article: { title, description: 'd', body: 'b', tagList } }),
        });
      slug = (await article('Parity of Answers', ['zeta', 'alpha', 'été'])).article!.slug as string;
      otherSlug = (await article('Second Article', ['alpha'])).article!.slug as string;
      await json({ name: 'follow', method: 'POST', path: '/profiles/alice/follow', as: 'bob' });
      await json({ name: 'favorite', method: 'POST', path: `/articles/${slug}/favorite`, as: 'bob' });
      const comment = await json({
        name: 'comment',
        method: 'POST',
        path: `/articles/${slug}/comments`,
        as: 'bob',
        body: JSON.stringify({ comment: { body: 'first!' } }),
      });
      commentId = comment.comment!.id as number;
      await json({
        name: 'comment',
        method: 'POST',
        path: `/articles/${slug}/comments`,
        as: 'alice',
        body: JSON.stringify({ comment: { body: 'thanks' } }),
      });
    });

    afterAll(async () => {
      await setGroupsMode(sc.stack, 'local');
      await sc.close();
    });

    // Reads, and requests refused before anything changes: safe to send to both sides.
    const probes = (): Probe[] => [
      { name: 'all articles', method: 'GET', path: '/articles' },
      { name: 'all articles, as a follower who favorited', method: 'GET', path: '/articles', as: 'bob' },
      { name: 'by tag', method: 'GET', path: '/articles?tag=alpha' },
      { name: 'by author', method: 'GET', path: '/articles?author=alice', as: 'bob' },
      { name: 'favorited by', method: 'GET', path: '/articles?favorited=bob' },
      { name: 'a page', method: 'GET', path: '/articles?limit=1&offset=1' },
      { name: 'past the end', method: 'GET', path: '/articles?offset=50' },
      { name: 'limit 0', method: 'GET', path: '/articles?limit=0' },
      { name: 'limit not a number', method: 'GET', path: '/articles?limit=abc' },
      { name: 'tag twice', method: 'GET', path: '/articles?tag=a&tag=b' },
      { name: 'feed', method: 'GET', path: '/articles/feed', as: 'bob' },
      { name: 'empty feed', method: 'GET', path: '/articles/feed?limit=5', as: 'alice' },
      { name: 'one article', method: 'GET', path: `/articles/${slug}` },
      { name: 'one article, as bob', method: 'GET', path: `/articles/${slug}`, as: 'bob' },
      { name: 'no such article', method: 'GET', path: '/articles/no-such-article' },
      { name: 'comments', method: 'GET', path: `/articles/${slug}/comments` },
      { name: 'comments, as alice', method: 'GET', path: `/articles/${slug}/comments`, as: 'alice' },
      { name: 'comments of nothing', method: 'GET', path: '/articles/nothing/comments' },
      { name: 'no comments', method: 'GET', path: `/articles/${otherSlug}/comments` },
      { name: 'a profile', method: 'GET', path: '/profiles/alice' },
      { name: 'a profile, as a follower', method: 'GET', path: '/profiles/alice', as: 'bob' },
      { name: 'no such profile', method: 'GET', path: '/profiles/nobody' },
      { name: 'tags', method: 'GET', path: '/tags' },
      { name: 'unknown path under articles', method: 'GET', path: `/articles/${slug}/nope/deeper` },
      {
        name: 'comment without body',
        method: 'POST',
        path: `/articles/${slug}/comments`,
        as: 'bob',
        body: JSON.stringify({ comment: { body: '  ' } }),
      },
      {
        name: 'comment, malformed JSON',
        method: 'POST',
        path: `/articles/${slug}/comments`,
        as: 'bob',
        body: '{"comment":',
      },
      {
        name: 'comment as text',
        method: 'POST',
        path: `/articles/${slug}/comments`,
        as: 'bob',
        body: 'hello',
        contentType: 'text/plain',
      },
      {
        name: 'comment on nothing',
        method: 'POST',
        path: '/articles/nothing/comments',
        as: 'bob',
        body: '{}',
      },
      {
        name: 'article without a title',
        method: 'POST',
        path: '/articles',
        as: 'alice',
        body: JSON.stringify({ article: { title: '', description: 'd', body: 'b' } }),
      },
      {
        name: 'tags not a list',
        method: 'POST',
        path: '/articles',
        as: 'alice',
        body: JSON.stringify({ article: { title: 't', description: 'd', body: 'b', tagList: 'x' } }),
      },
      {
        name: "update someone else's article",
        method: 'PUT',
        path: `/articles/${slug}`,
        as: 'bob',
        body: JSON.stringify({ article: { body: 'mine now' } }),
      },
      { name: "delete someone else's article", method: 'DELETE', path: `/articles/${slug}`, as: 'bob' },
      {
        name: "delete someone else's comment",
        method: 'DELETE',
        path: `/articles/${slug}/comments/${commentId}`,
        as: 'alice',
      },
      {
        name: 'delete no such comment',
        method: 'DELETE',
        path: `/articles/${slug}/comments/999999`,
        as: 'bob',
      },
      {
        name: 'delete a comment id that is no number',
        method: 'DELETE',
        path: `/articles/${slug}/comments/x`,
        as: 'bob',
      },
      { name: 'favorite nothing', method: 'POST', path: '/articles/nothing/favorite', as: 'bob' },
      { name: 'follow nobody', method: 'POST', path: '/profiles/nobody/follow', as: 'bob' },
      { name: 'follow yourself', method: 'POST', path: '/profiles/bob/follow', as: 'bob' },
    ];

    test('every probe: the same status, content type, headers and body bytes on both sides', async () => {
      const all = probes();
      const local: Answer[] = [];
      for (const probe of all) local.push(await call(probe));
      const servedBefore = sc.logs.services.length;
      await setGroupsMode(sc.stack, 'remote');
      const remote: Answer[] = [];
      const ids: Array<string | null> = [];
      try {
        for (const probe of all) {
          const { answer, requestId } = await traced(probe);
          remote.push(answer);
          ids.push(requestId);
        }
      } finally {
        await setGroupsMode(sc.stack, 'local');
      }
      // Every probe reached a service in remote mode (their access logs), none in local mode, and
      // each service logged the request under the id the gateway gave the client: one id per request.
      const served = sc.logs.services.slice(servedBefore);
      expect(served).toHaveLength(all.length);
      expect(served.map((line) => line.request_id)).toEqual(ids);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
      for (const [i, probe] of all.entries()) {
        expect(remote[i], `${probe.name}: ${probe.method} ${probe.path}`).toEqual(local[i]);
      }
      // The probes cover answers, not just errors: both sides agree on real content.
      const statuses = new Set(local.map((a) => a.status));
      expect([...statuses].sort()).toEqual([200, 400, 403, 404, 415, 422]);
      expect(
        JSON.parse(local.find((_, i) => all[i]!.name === 'one article, as bob')!.body).article,
      ).toMatchObject({
        favorited: true,
        favoritesCount: 1,
        tagList: ['alpha', 'zeta', 'été'],
        author: { username: 'alice', following: true },
      });
    });

    test('changes made on one side read the same on the other, and answer the same bytes', async () => {
      // Each pair is done and undone on one side, then on the other: the answers must match.
      const toggles: Probe[][] = [
        [
          { name: 'favorite', method: 'POST', path: `/articles/${otherSlug}/favorite`, as: 'bob' },
          { name: 'unfavorite', method: 'DELETE', path: `/articles/${otherSlug}/favorite`, as: 'bob' },
        ],
        [
          { name: 'unfollow', method: 'DELETE', path: '/profiles/alice/follow', as: 'bob' },
          { name: 'follow', method: 'POST', path: '/profiles/alice/follow', as: 'bob' },
        ],
      ];
      for (const pair of toggles) {
        const local = [await call(pair[0]!), await call(pair[1]!)];
        await setGroupsMode(sc.stack, 'remote');
        try {
          const remote = [await call(pair[0]!), await call(pair[1]!)];
          expect(remote).toEqual(local);
        } finally {
          await setGroupsMode(sc.stack, 'local');
        }
        expect(local.map((a) => a.status)).toEqual([200, 200]);
      }
      // A comment written by the service is read identically by the monolith, and vice versa.
      await setGroupsMode(sc.stack, 'remote');
      let written: Answer;
      let readRemote: Answer;
      try {
        written = await call({
          name: 'comment',
          method: 'POST',
          path: `/articles/${otherSlug}/comments`,
          as: 'alice',
          body: JSON.stringify({ comment: { body: 'from the service' } }),
        });
        readRemote = await call({ name: 'comments', method: 'GET', path: `/articles/${otherSlug}/comments` });
      } finally {
        await setGroupsMode(sc.stack, 'local');
      }
      const readLocal = await call({
        name: 'comments',
        method: 'GET',
        path: `/articles/${otherSlug}/comments`,
      });
      expect(written.status).toBe(200);
      expect(readLocal).toEqual(readRemote);
      expect(JSON.parse(readLocal.body).comments).toEqual([JSON.parse(written.body).comment]);
    });

    test('no unexpected server-side errors on any side', () => {
      expect(sc.errors).toEqual([]);
    });
  });
}
