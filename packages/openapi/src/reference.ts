// The API reference page, served from this process with the same document the validator uses. The
// renderer is swagger-ui-dist, an optional peer dependency whose two files are read once at start and
// served from memory: no CDN, nothing fetched by the browser from anywhere but this gateway. Weighed
// on 2026-12-04: swagger-ui-dist is 12 MB unpacked with one tiny dependency; @scalar/api-reference
// pulls ~30 packages (Vue and its UI kit) and ships no standalone package; redoc 3 depends on a package
// the registry does not serve and redoc 2 needs React, MobX and twenty more.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError } from '@gatehousejs/core';

/** A file the page needs. */
interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** What the reference serves under its path. */
export interface ReferenceSite {
  /** The answer for a GET/HEAD under the reference path, or undefined for another path. */
  serve(path: string): { status: number; headers: Record<string, string>; body: Buffer } | undefined;
}

const RENDERERS = {
  'swagger-ui': {
    package: 'swagger-ui-dist',
    files: {
      'swagger-ui.css': 'text/css; charset=utf-8',
      'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
    } as Record<string, string>,
    page: (title: string, base: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="stylesheet" href="${base}/assets/swagger-ui.css"></head>
<body><div id="reference"></div><script src="${base}/assets/swagger-ui-bundle.js"></script>
<script src="${base}/assets/init.js"></script></body></html>`,
    init: (base: string) =>
      `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(`${base}/openapi.json`)}, dom_id: '#reference', deepLinking: true });`,
  },
} as const;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Where a renderer's files are, found from this package (so the application's install is used). */
function locateFiles(packageName: string, renderer: string): string {
  const require = createRequire(import.meta.url);
  try {
    const manifest = require.resolve(`${packageName}/package.json`);
    return dirname(manifest);
  } catch {
    throw new ConfigError([
      {
        path: 'validate.reference.renderer',
        message: `'${renderer}' needs the npm package '${packageName}' (an optional peer dependency): npm install ${packageName}`,
      },
    ]);
  }
}

/**
 * Builds the reference site: reads the renderer's files and renders the page once. Throws a
 * ConfigError when the renderer's package is not installed.
 */
export function createReference(
  options: { path: string; renderer: 'swagger-ui'; title: string | undefined },
  document: Record<string, unknown>,
): ReferenceSite {
  const renderer = RENDERERS[options.renderer];
  const dir = locateFiles(renderer.package, options.renderer);
  const base = options.path;
  const assets = new Map<string, Asset>();
  for (const [file, type] of Object.entries(renderer.files)) {
    assets.set(`${base}/assets/${file}`, { type, body: readFileSync(join(dir, file)) });
  }
  assets.set(`${base}/assets/init.js`, {
    type: 'text/javascript; charset=utf-8',
    body: Buffer.from(renderer.init(base)),
  });
  const info = document.info as { title?: unknown } | undefined;
  const title = escapeHtml(options.title ?? (typeof info?.title === 'string' ? info.title : 'API reference'));
  const page: Asset = { type: 'text/html; charset=utf-8', body: Buffer.from(renderer.page(title, base)) };
  const json: Asset = {
    type: 'application/json; charset=utf-8',
    body: Buffer.from(JSON.stringify(document)),
  };
  assets.set(base, page);
  assets.set(`${base}/openapi.json`, json);
  // The page runs our own init script only; nothing inline, nothing from elsewhere.
  const csp =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:";
  return {
    serve(path) {
      const asset = assets.get(path);
      if (asset === undefined) return undefined;
      return {
        status: 200,
        headers: {
          'content-type': asset.type,
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
          ...(asset.type.startsWith('text/html') ? { 'content-security-policy': csp } : {}),
        },
        body: asset.body,
      };
    },
  };
}
