import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard's build (web/README.md): Preact's JSX compiled by Vite's own transformer,
// everything bundled into web/dist (no CDN, system fonts), served by `botcriptofy start`.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
});
