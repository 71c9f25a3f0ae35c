import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

// Builds the web dashboard (web/src → web/dist) with Vite: run by the root package's `prepare`
// script, so `npm install` (and `npm ci`) leave a built dashboard that `botcriptofy start`
// serves at `/`; also `npm run build:web`. Each text file also gets a .gz beside it (the server
// sends it to browsers that accept gzip: a phone downloads a third of the bytes).
// A production install (`npm ci --omit=dev`) has no Vite: it says so and builds nothing.

const webDir = path.dirname(fileURLToPath(import.meta.url));
const distDir = path.join(webDir, 'dist');

let vite: typeof import('vite');
try {
  vite = await import('vite');
} catch (error) {
  if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
  console.log('web: Vite is not installed (a production install without dev dependencies): the dashboard is not built.');
  process.exit(0);
}

const started = performance.now();
await vite.build({ configFile: path.join(webDir, 'vite.config.ts'), logLevel: 'warn' });

let bytes = 0;
let gzipped = 0;
for (const entry of fs.readdirSync(distDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.(?:js|css|html|svg|json)$/.test(entry.name)) continue;
  const file = path.join(entry.parentPath, entry.name);
  const body = fs.readFileSync(file);
  const gz = zlib.gzipSync(body, { level: 9 });
  fs.writeFileSync(`${file}.gz`, gz);
  bytes += body.length;
  gzipped += gz.length;
}
console.log(
  `web: dashboard built into web/dist in ${((performance.now() - started) / 1000).toFixed(1)} s (${Math.round(bytes / 1024)} KB, ${Math.round(gzipped / 1024)} KB gzip)`,
);
