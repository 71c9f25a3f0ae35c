import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

// The validators test/deploy runs, found on PATH or where deploy/tools/install-validators.sh
// puts them. A test whose tool is absent skips and prints why (the tool's own check); the
// checks that need no tool always run.

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TOOLS_DIR = path.join(
  process.env.BOTCRIPTOFY_TOOLS_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'botcriptofy-tools'),
  'bin',
);

/** The tool's path, or undefined when it is not installed here. */
export function findTool(name: string): string | undefined {
  const local = path.join(TOOLS_DIR, name);
  if (fs.existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function missingTool(name: string, what: string): string | undefined {
  if (findTool(name)) return undefined;
  const reason = `${what} skipped: ${name} is not installed (bash deploy/tools/install-validators.sh installs it)`;
  console.log(reason);
  return reason;
}

export interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runTool(name: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): ToolRun {
  const tool = findTool(name);
  if (!tool) throw new Error(`${name} is not installed`);
  const result = spawnSync(tool, args, {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

export function readText(relative: string): string {
  return fs.readFileSync(path.join(ROOT, relative), 'utf8');
}

export function readYaml<T = unknown>(relative: string): T {
  // merge: true reads `<<: *anchor` as Compose does.
  return parse(readText(relative), { merge: true }) as T;
}

export function yamlDocuments(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Record<string, unknown> | null)
    .filter((doc): doc is Record<string, unknown> => doc !== null && typeof doc === 'object');
}

/** Every setting the program reads (config/env.ts). */
export async function productVariables(): Promise<string[]> {
  const { envSchema } = await import('../../config/env.ts');
  return Object.keys(envSchema.shape);
}
