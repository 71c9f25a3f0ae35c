import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Scalar } from '@scalar/hono-api-reference';
import type { Hono } from 'hono';

// The API reference at /api/docs, offline: Scalar's page, with its standalone bundle served from
// node_modules at /api/docs/scalar.js instead of the jsDelivr CDN it loads by default, and
// without its web fonts (fonts.scalar.com). test/server/api-docs.test.ts checks the page names
// no external URL.

export const DOCS_PATH = '/api/docs';
export const SCALAR_BUNDLE_PATH = '/api/docs/scalar.js';

let bundle: Promise<Uint8Array> | undefined;

/** @scalar/api-reference's browser bundle (about 5 MB), read once. */
function scalarBundle(): Promise<Uint8Array> {
  if (!bundle) {
    const entry = createRequire(import.meta.url).resolve('@scalar/api-reference');
    bundle = fs.readFile(path.join(path.dirname(entry), 'browser', 'standalone.js'));
    bundle.catch(() => {
      bundle = undefined;
    });
  }
  return bundle;
}

export function mountDocs(app: Hono, openApiPath: string): void {
  app.get(
    DOCS_PATH,
    Scalar({
      pageTitle: 'BotCriptoFy API',
      url: openApiPath,
      cdn: SCALAR_BUNDLE_PATH,
      withDefaultFonts: false,
      hideClientButton: true,
      telemetry: false,
    }),
  );
  app.get(SCALAR_BUNDLE_PATH, async (c) => {
    const body = await scalarBundle();
    return c.body(body as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=86400',
    });
  });
}
