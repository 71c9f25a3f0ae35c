// Run by `npm install` (the postinstall script): makes node_modules/.bin/botcriptofy a link to
// bin/botcriptofy.js, which is how `npx botcriptofy` finds the command.
//
// Why not package.json's "bin": npm exec (npx) treats a project's own bin as a package to install
// into its npx cache. Every call then loads the whole node_modules tree (1,000+ packages: 2.5–3.5 s
// of the ~4 s `npx botcriptofy --version` took on a loaded 2-core machine) and checks the
// project's "engines" against the Node running npm (the EBADENGINE warning on every run with the
// system Node 20). A command already in node_modules/.bin, npx runs directly.
//
// Plain JavaScript that any Node from 20 on runs; it never fails the install (the image's
// dependency stage runs it before bin/ is copied, and needs no link: it runs bin/botcriptofy.js).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const binDir = path.join(root, 'node_modules', '.bin');
const link = path.join(binDir, 'botcriptofy');
const target = path.join('..', '..', 'bin', 'botcriptofy.js');
try {
  fs.mkdirSync(binDir, { recursive: true });
  let current;
  try {
    current = fs.readlinkSync(link);
  } catch {
    current = undefined; // no link yet (or a file in its place, replaced below)
  }
  if (current !== target) {
    fs.rmSync(link, { force: true });
    fs.symlinkSync(target, link);
  }
} catch (error) {
  console.warn(
    `botcriptofy: could not link ${link} (${error.code ?? error.message}); run the CLI as \`node bin/botcriptofy.js\` instead of \`npx botcriptofy\``,
  );
}
