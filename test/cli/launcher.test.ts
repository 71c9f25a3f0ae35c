import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv } from '../support/cli.ts';

// How the command starts: in the Node that runs it when that Node strips types by itself
// (≥ 22.18), through the bundled Node otherwise, and through `npx` without npm installing the
// project into its cache (seconds) or warning about engines.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOOK = fileURLToPath(new URL('../support/record-modules.ts', import.meta.url));
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const run = promisify(execFile);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-launcher-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const atLeast2218 = (version: string) => {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number) as [number, number];
  return major > 22 || (major === 22 && minor >= 18);
};

/** A Node older than 22.18 on this machine (the system's), if there is one. */
const olderNode = (() => {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
      if (!atLeast2218(version)) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
})();

describe('the launcher (bin/botcriptofy.js)', () => {
  it('runs the command in its own process on Node ≥ 22.18: no second Node', { skip: !atLeast2218(process.version) }, async () => {
    const record = path.join(tmp, 'modules.txt');
    // The recording hook lives only in this process: a command run by a second Node would not be recorded.
    const { stdout } = await run(process.execPath, ['--import', HOOK, BIN, '--version'], {
      cwd: ROOT,
      env: cliEnv({ RECORD_MODULES_FILE: record }),
    });
    expect(stdout.trim()).toBe(VERSION);
    const modules = fs.readFileSync(record, 'utf8').split('\n');
    expect(modules.some((url) => url.endsWith('/cli/main.ts'))).toBe(true);
  });

  it('hands over to the bundled Node when an older system Node starts it, and never loops', { skip: olderNode === undefined }, async () => {
    const { stdout } = await run(olderNode!, [BIN, '--version'], { cwd: ROOT, env: cliEnv({}) });
    expect(stdout.trim()).toBe(VERSION);
    // A handed-over process that still found an old Node says so instead of handing over again.
    const again = await run(olderNode!, [BIN, '--version'], { cwd: ROOT, env: cliEnv({ BOTCRIPTOFY_REEXEC: '1' }) }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(again).toMatchObject({ code: 1, stderr: expect.stringMatching(/botcriptofy needs Node >= 22\.18 \(found v\d+/) });
  });
});

describe('npx botcriptofy', () => {
  it('bin/link.js (the postinstall script) links node_modules/.bin/botcriptofy, again after a stale file, and not twice', () => {
    const root = path.join(tmp, 'project');
    fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'bin', 'link.js'), path.join(root, 'bin', 'link.js'));
    fs.writeFileSync(path.join(root, 'bin', 'botcriptofy.js'), '#!/usr/bin/env node\nconsole.log("launched")\n', { mode: 0o755 });
    fs.writeFileSync(path.join(root, 'package.json'), '{"type":"module"}');
    const link = path.join(root, 'node_modules', '.bin', 'botcriptofy');
    execFileSync(process.execPath, [path.join(root, 'bin', 'link.js')]);
    expect(fs.readlinkSync(link)).toBe(path.join('..', '..', 'bin', 'botcriptofy.js'));
    expect(execFileSync(link, { encoding: 'utf8', env: cliEnv({}) })).toBe('launched\n');
    const inode = fs.lstatSync(link).ino;
    execFileSync(process.execPath, [path.join(root, 'bin', 'link.js')]);
    expect(fs.lstatSync(link).ino).toBe(inode);
    fs.rmSync(link);
    fs.writeFileSync(link, 'stale');
    execFileSync(process.execPath, [path.join(root, 'bin', 'link.js')]);
    expect(fs.readlinkSync(link)).toBe(path.join('..', '..', 'bin', 'botcriptofy.js'));
  });

  it('package.json declares no "botcriptofy" bin (npx would install the project into its cache on every call) and links it on install', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      bin?: unknown;
      scripts: Record<string, string>;
      engines: { node: string };
    };
    expect(manifest.bin).toBeUndefined();
    expect(manifest.scripts['postinstall']).toContain('./bin/link.js');
    // The engines the launcher needs (it brings Node 22 itself), so npm on the system Node 20 has nothing to warn about.
    expect(manifest.engines.node).toBe('>=20');
  });

  it('runs the linked command with the bundled Node, with no npm warning (EBADENGINE or any other)', {
    skip: !fs.existsSync(path.join(ROOT, 'node_modules', '.bin', 'botcriptofy')),
  }, async () => {
    const { stdout, stderr } = await run('npx', ['botcriptofy', '--version'], {
      cwd: ROOT,
      env: { ...cliEnv({}), npm_config_loglevel: 'warn', npm_config_update_notifier: 'false' },
    });
    expect(stdout.trim()).toBe(VERSION);
    expect(stderr).toBe('');
  });
});

describe("glibc's malloc settings (bin/malloc-tunables.js)", async () => {
  const { MALLOC_TUNABLES } = (await import(new URL('../../bin/malloc-tunables.js', import.meta.url).href)) as { MALLOC_TUNABLES: string };
  // Written by every Node the command runs in, before the command: the GLIBC_TUNABLES it started with.
  const report = `--import=data:text/javascript,process.stdout.write('tunables='+process.env.GLIBC_TUNABLES+'\\n')`;

  it("are the same string in the launcher's first line, `npm start` and the image", () => {
    const firstLine = fs.readFileSync(BIN, 'utf8').split('\n')[0];
    expect(firstLine).toBe(`#!/usr/bin/env -S GLIBC_TUNABLES=${MALLOC_TUNABLES} node`);
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(manifest.scripts['start']).toBe(`exec env GLIBC_TUNABLES=${MALLOC_TUNABLES} node bin/botcriptofy.js start`);
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(new RegExp(`^\\s+GLIBC_TUNABLES=${MALLOC_TUNABLES.replaceAll('.', '\\.')}$`, 'm'));
  });

  it('reach the Node that runs the linked command (the first line)', {
    skip: !fs.existsSync(path.join(ROOT, 'node_modules', '.bin', 'botcriptofy')),
  }, async () => {
    const link = path.join(ROOT, 'node_modules', '.bin', 'botcriptofy');
    const { stdout } = await run(link, ['--version'], {
      cwd: ROOT,
      env: cliEnv({ NODE_OPTIONS: report, PATH: `${path.dirname(link)}${path.delimiter}${process.env.PATH}` }),
    });
    expect(stdout.split('\n')).toEqual([`tunables=${MALLOC_TUNABLES}`, VERSION, '']);
  });

  it('reach the bundled Node an older system Node hands over to', { skip: olderNode === undefined }, async () => {
    const { stdout } = await run(olderNode!, [BIN, '--version'], { cwd: ROOT, env: cliEnv({ NODE_OPTIONS: report }) });
    // The older Node started without them; the Node it handed over to has them.
    expect(stdout.split('\n')).toEqual(['tunables=undefined', `tunables=${MALLOC_TUNABLES}`, VERSION, '']);
  });
});
