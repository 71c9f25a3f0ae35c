#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1 node
// Entry point. Runs the TypeScript sources directly with Node's type stripping (Node >= 22.18).
// When started by an older system Node, it hands over to the Node 22 that `npm install`
// placed in node_modules (the `node` package), so the command works on a Node 20 machine.
//
// The first line sets glibc's malloc settings (huge pages, one arena) for `npx botcriptofy` and
// `./bin/botcriptofy.js`, and the hand-over passes them on: bin/malloc-tunables.js says why.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MALLOC_TUNABLES } from './malloc-tunables.js';

const [major, minor] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 18);
if (!supported) {
  const localNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (process.env.BOTCRIPTOFY_REEXEC !== '1' && existsSync(localNode)) {
    const child = spawn(localNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { GLIBC_TUNABLES: MALLOC_TUNABLES, ...process.env, BOTCRIPTOFY_REEXEC: '1' },
    });
    // Pass stop signals on, so a supervisor's SIGTERM still shuts the real process down gracefully.
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  } else {
    console.error(
      `botcriptofy needs Node >= 22.18 (found ${process.version}). Run \`npm install\` in the checkout: it installs Node 22 into node_modules.`,
    );
    process.exit(1);
  }
} else {
  // Settings from ./.env (see .env.example); variables already in the environment win.
  if (process.env.BOTCRIPTOFY_NO_ENV_FILE !== '1' && existsSync('.env')) process.loadEnvFile('.env');
  // Stripped sources and V8's code cache kept between runs (bin/start-cache.js): most of a short
  // command's start-up otherwise. A long-running command (start, worker) goes without the code
  // cache: it holds memory for the life of the process and saves it only one start.
  const { enableStartCache, LONG_RUNNING_COMMANDS } = await import('./start-cache.js');
  enableStartCache({ compiledCode: !LONG_RUNNING_COMMANDS.has(process.argv[2] ?? '') });
  const { main } = await import('../cli/main.ts');
  await main(process.argv);
}
