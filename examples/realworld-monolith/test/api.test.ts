// What the showcase adds to Conduit's API at the gateway, over real sockets: a versioned endpoint (the
// tag list, version 2 from the api-version header, version 1 deprecated with a sunset date), answered
// alike by the monolith and by the service; and a backend-for-frontend screen composed from the services
// with gw.aggregate(): required and optional calls, a cached call, a partial answer when a service is
// down, the caller's identity carried to every call.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresMissing } from './postgres.js';
import { ADMIN_KEY, type Showcase, setGroupsMode, startShowcase } from './support.js';

const showcase = await startShowcase('api');

if (typeof showcase === 'string') {
  postgresMissing('examples/realworld-monolith/test/api.test.ts', showcase);
} else {
  describe('versions and screens at the edge of the Conduit monolith', () => {
    const sc: Showcase = showcase;
    const api = `${sc.stack.urls.monolith}/api`;
    const tokens: Record<string, string> = {};
    const slugs: Record<string, string> = {};

    async function send(
      path: string,
      init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
    ) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token !== undefined) headers.authorization = `Token ${init.token}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      return fetch(`${api}${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    }

    async function register(name: string) {
      const res = await send('/users', {
        method: 'POST',
        body: { user: { username: name, email: `${name}@example.test`, password: 'pw-123456' } },
      });
      expect(res.status).toBe(201);
      tokens[name] = ((await res.json()) as { user: { token: string } }).user.token;
    }

    async function article(author: string, title: string, tagList: string[]) {
      const res = await send('/articles', {
        method: 'POST',
        token: tokens[author],
        body: { article: { title, description: 'd', body: 'b', tagList } },
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { article: { slug: string } }).article.slug;
    }

    beforeAll(async () => {
      await register('ada');
      await register('bo');
      slugs.engines = await article('ada', 'Engines', ['maths', 'machines']);
      slugs.notes = await article('ada', 'Notes', ['maths']);
      slugs.rivers = await article('bo', 'Rivers', ['maps']);
      const comment = await send(`/articles/${slugs.engines}/comments`, {
        method: 'POST',
        token: tokens.bo,
        body: { comment: { body: 'Lovely.' } },
      });
      expect(comment.status).toBe(200);
    });
    afterAll(async () => {
      await setGroupsMode(sc.stack, 'local');
      await sc.close();
    });

    /** The version headers of an answer (those the gateway announces). */
    const versionHeaders = (res: Response) =>
      Object.fromEntries(
        ['api-supported-versions', 'api-deprecated-versions', 'deprecation', 'sunset', 'link', 'vary'].map(
          (name) => [name, res.headers.get(name)],
        ),
      );

    const V1_HEADERS = {
      'api-supported-versions': '2',
      'api-deprecated-versions': '1',
      // RFC 9745: 2026-12-01T00:00:00Z as epoch seconds; RFC 8594: an HTTP-date.
      deprecation: `@${Date.UTC(2026, 11, 1) / 1000}`,
      sunset: 'Wed, 30 Jun 2027 00:00:00 GMT',
      link: expect.stringMatching(/rel="deprecation".*rel="sunset"|rel="sunset".*rel="deprecation"/),
      vary: 'api-version',
    };

    test('GET /api/tags: version 1 by default (RealWorld names), deprecated, with its sunset; the same from the monolith and the service', async () => {
      const answers = [];
      for (const mode of ['local', 'remote'] as const) {
        await setGroupsMode(sc.stack, mode);
        const before = sc.logs.services.length;
        const res = await send('/tags');
        answers.push([
          mode,
          res.status,
          await res.json(),
          versionHeaders(res),
          sc.logs.services.length - before,
        ]);
      }
      await setGroupsMode(sc.stack, 'local');
      const tags = { tags: ['maths', 'machines', 'maps'] };
      expect(answers).toEqual([
        ['local', 200, tags, V1_HEADERS, 0],
        ['remote', 200, tags, V1_HEADERS, 1],
      ]);
    });

    test('api-version: 2 — each tag with its article count, announced as current; 1 explicitly is the deprecated list', async () => {
      const answers = [];
      for (const mode of ['local', 'remote'] as const) {
        await setGroupsMode(sc.stack, mode);
        const v2 = await send('/tags', { headers: { 'api-version': '2' } });
        const v1 = await send('/tags', { headers: { 'api-version': '1' } });
        answers.push([mode, v2.status, await v2.json(), versionHeaders(v2), v1.status, await v1.json()]);
      }
      await setGroupsMode(sc.stack, 'local');
      const v2 = {
        tags: [
          { name: 'maths', articles: 2 },
          { name: 'machines', articles: 1 },
          { name: 'maps', articles: 1 },
        ],
      };
      const v2Headers = {
        'api-supported-versions': '2',
        'api-deprecated-versions': '1',
        deprecation: null,
        sunset: null,
        link: null,
        vary: 'api-version',
      };
      const v1 = { tags: ['maths', 'machines', 'maps'] };
      expect(answers).toEqual([
        ['local', 200, v2, v2Headers, 200, v1],
        ['remote', 200, v2, v2Headers, 200, v1],
      ]);
    });

    test('an unknown version is refused at the edge (400 problem+json listing the versions), in either mode', async () => {
      for (const mode of ['local', 'remote'] as const) {
        await setGroupsMode(sc.stack, mode);
        const before = sc.logs.services.length;
        const res = await send('/tags', { headers: { 'api-version': '3' } });
        const body = (await res.json()) as { code: string; supported: string[] };
        expect([mode, res.status, res.headers.get('content-type'), body.code, body.supported]).toEqual([
          mode,
          400,
          'application/problem+json',
          'GH_VERSION_UNSUPPORTED',
          ['1', '2'],
        ]);
        expect(sc.logs.services.length).toBe(before);
      }
      await setGroupsMode(sc.stack, 'local');
    });

    test('every other path is version-neutral: no version headers, the same answer whatever api-version says', async () => {
      const plain = await send('/articles');
      const asked = await send('/articles', { headers: { 'api-version': '2' } });
      expect([plain.status, asked.status]).toEqual([200, 200]);
      expect(await asked.text()).toBe(await plain.text());
      for (const res of [plain, asked]) {
        expect([res.headers.get('api-supported-versions'), res.headers.get('deprecation')]).toEqual([
          null,
          null,
        ]);
      }
    });

    test('requests per version are counted in /metrics (what says when version 1 can go)', async () => {
      const res = await fetch(`${sc.stack.urls.monolith}/_gatehouse/metrics`, {
        headers: { 'x-api-key': ADMIN_KEY },
      });
      const text = await res.text();
      const count = (version: string) =>
        Number(
          new RegExp(
            `^gatehouse_api_requests_total\\{[^}]*gatehouse_api_version="${version}"[^}]*\\} (\\d+)`,
            'm',
          ).exec(text)?.[1] ?? Number.NaN,
        );
      expect(count('1')).toBeGreaterThanOrEqual(4);
      expect(count('2')).toBeGreaterThanOrEqual(2);
    });

    type Screen = {
      article: {
        slug: string;
        title: string;
        author: { username: string; following: boolean };
        favorited: boolean;
      };
      comments: Array<{ body: string; author: { username: string } }>;
      author: { username: string; following: boolean } | null;
      moreFromAuthor: Array<{ slug: string; title: string; favoritesCount: number }>;
      _partial?: { calls: string[]; errors: Array<{ call: string; code: string }> };
    };

    test('GET /api/screens/article/:slug — the article, its comments, its author and their articles in one answer', async () => {
      const res = await send(`/screens/article/${slugs.engines}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('x-gatehouse-partial')).toBeNull();
      const screen = (await res.json()) as Screen;
      expect(screen.article).toMatchObject({
        slug: slugs.engines,
        title: 'Engines',
        author: { username: 'ada' },
      });
      expect(screen.comments.map((c) => [c.author.username, c.body])).toEqual([['bo', 'Lovely.']]);
      expect(screen.author).toEqual({ username: 'ada', bio: '', image: '', following: false });
      // Newest first, each picked down to three fields.
      expect(screen.moreFromAuthor).toEqual([
        { slug: slugs.notes, title: 'Notes', favoritesCount: 0 },
        { slug: slugs.engines, title: 'Engines', favoritesCount: 0 },
      ]);
      expect(screen._partial).toBeUndefined();
    });

    test("the author's profile comes from the response cache while the service says it is fresh", async () => {
      const profileCalls = () =>
        sc.logs.services.filter(
          (l) => typeof l.path === 'string' && (l.path as string).startsWith('/api/profiles/'),
        ).length;
      const counters = async () =>
        (await (
          await fetch(`${sc.stack.urls.monolith}/_gatehouse/cache`, { headers: { 'x-api-key': ADMIN_KEY } })
        ).json()) as Record<string, unknown>;
      const before = profileCalls();
      const first = await send(`/screens/article/${slugs.rivers}`);
      const second = await send(`/screens/article/${slugs.rivers}`);
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(((await second.json()) as Screen).author?.username).toBe('bo');
      // Two screens, one call to the profiles service: the second was a cache hit.
      expect(profileCalls() - before).toBe(1);
      expect(((await counters()) as { cache: { hits: number } }).cache.hits).toBeGreaterThanOrEqual(1);
    });

    test("a signed-in caller's screen is theirs: the identity reaches every call (following, favorited), and is not cached", async () => {
      expect((await send(`/profiles/ada/follow`, { method: 'POST', token: tokens.bo })).status).toBe(200);
      expect(
        (await send(`/articles/${slugs.engines}/favorite`, { method: 'POST', token: tokens.bo })).status,
      ).toBe(200);
      const mine = (await (
        await send(`/screens/article/${slugs.engines}`, { token: tokens.bo })
      ).json()) as Screen;
      expect([mine.article.favorited, mine.article.author.following, mine.author?.following]).toEqual([
        true,
        true,
        true,
      ]);
      const anonymous = (await (await send(`/screens/article/${slugs.engines}`)).json()) as Screen;
      expect([anonymous.article.favorited, anonymous.author?.following]).toEqual([false, false]);
    });

    test("an unknown article: the required call's 404 is the screen's, as problem+json with an errors entry", async () => {
      const res = await send('/screens/article/no-such-article');
      const body = (await res.json()) as {
        code: string;
        errors: Array<{ call: string; status: number; required: boolean }>;
      };
      expect([res.status, res.headers.get('content-type'), body.code]).toEqual([
        404,
        'application/problem+json',
        'GH_AGGREGATE_NOT_FOUND',
      ]);
      // The required call's failure comes first. The comments call runs beside it and answers 404 too:
      // listed when it had failed by then, cancelled (and not listed) when it was still out.
      expect(body.errors[0]).toMatchObject({ call: 'article', status: 404, required: true });
      for (const other of body.errors.slice(1))
        expect(other).toMatchObject({ call: 'comments', status: 404, required: false });
    });

    test('the profiles service down: the screen still answers, marked partial, the author left out', async () => {
      await sc.stack.killService('profiles');
      try {
        // Signed in: the author's profile is private to the caller, so no cached copy can stand in.
        const res = await send(`/screens/article/${slugs.notes}`, { token: tokens.bo });
        const screen = (await res.json()) as Screen;
        expect([
          res.status,
          res.headers.get('x-gatehouse-partial'),
          res.headers.get('cache-control'),
        ]).toEqual([200, 'author', 'no-store']);
        expect(screen.article.slug).toBe(slugs.notes);
        expect(screen.author).toBeNull();
        expect(screen._partial?.calls).toEqual(['author']);
        expect(screen._partial?.errors.map((e) => e.call)).toEqual(['author']);
      } finally {
        await sc.stack.restartService('profiles');
      }
    });

    test('no unexpected server-side errors on any side', () => {
      expect(sc.errors).toEqual([]);
    });
  });
}
