import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

// The web dashboard (issue 17) at `/`: the files `vite build` wrote to web/dist (built by
// `npm install`'s prepare step, web/build.ts), served on the HTTP server's own port. Client
// routes (/bots/…, /backtest, …) get index.html and the app routes them in the browser. The
// server's own paths keep precedence: they are mounted before this, and an unknown /api/…,
// /health…, /metrics…, /webhooks… or /telegram… path is never answered with the app.

export const WEB_DIST_DIR = fileURLToPath(new URL('../web/dist/', import.meta.url));

const SERVER_PATHS = /^\/(?:api|health|metrics|webhooks|telegram)(?:\/|$)/;

const notBuilt = `<!doctype html><html lang="en"><meta charset="utf-8"><title>BotCriptoFy</title>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The web dashboard is not built</h1>
<p>Its files (web/dist) are missing. <code>npm install</code> builds them; or run <code>npm run build:web</code>, then reload.
The HTTP API is at <a href="/api/docs">/api/docs</a>.</p></body></html>`;

export function mountWeb(app: Hono, distDir: string = WEB_DIST_DIR): void {
  const indexFile = `${distDir}index.html`;
  // Hashed asset names never change content: a year in the browser's cache; index.html always revalidates.
  app.use('/assets/*', async (c, next) => {
    await next();
    if (c.res.status === 200) c.header('Cache-Control', 'public, max-age=31536000, immutable');
  });
  app.use('*', async (c, next) => {
    if (SERVER_PATHS.test(c.req.path)) return next();
    return serveStatic({ root: distDir, precompressed: true })(c, next);
  });
  app.get('*', async (c, next) => {
    if (SERVER_PATHS.test(c.req.path)) return next();
    // A file name with an extension that is not there is a 404, not the app.
    if (/\.[a-z0-9]+$/i.test(c.req.path)) return next();
    if (!fs.existsSync(indexFile)) return c.html(notBuilt, 503);
    c.header('Cache-Control', 'no-cache');
    return c.html(await fs.promises.readFile(indexFile, 'utf8'));
  });
}
