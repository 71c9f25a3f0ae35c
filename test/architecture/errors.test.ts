import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ERROR_CATEGORIES, ProductError, UsageError, exitCodeFor, httpStatusFor, type ErrorCategory } from '../../errors/index.ts';
import { createLogger, createMetrics } from '../../observability/index.ts';
import { createApp } from '../../server/index.ts';
import type { DatabaseHandle } from '../../db/index.ts';
import { ToolRefusal } from '../../tools/index.ts';

// One error model (issue 20): every error class the product throws is a ProductError, whose
// category the CLI turns into its exit code and the HTTP API into its status. A class that is
// not is listed here with the reason; a new `extends Error` elsewhere fails this test.

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Folders that are not the product: tests, benchmarks, dependencies, data, docs, deployment. */
const NOT_PRODUCT = new Set(['test', 'bench', 'node_modules', 'data', 'docs', 'deploy', 'candles', 'bin', 'coverage', 'dist']);

/** Error classes that are not ProductErrors, each with why. */
const NOT_PRODUCT_ERRORS: Readonly<Record<string, string>> = {
  'cli/commands/bots.ts:Refused':
    'control flow inside `bots`: thrown by its tool call and caught by the same command (one line, --json, exit 1); it never leaves the module',
  'cli/commands/bots.ts:AwaitingApproval':
    'control flow inside `bots`: a pending approval is a success (exit 0), caught by the same command',
  'trading/runner/bot-runner.ts:StaleOwnerError':
    'a fencing signal between workers (another worker took the bot over); caught by the runner, never shown to a person',
  'web/src/api.ts:ApiError':
    "the browser dashboard's copy of an API answer's error (status, category, message as the server sent them), shown to the person; the browser bundle does not import the server's errors/",
  'web/src/api.ts:NetworkError':
    'the browser dashboard could not reach the server at all (no answer to categorise); shown to the person in words',
};

function productFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (dir === ROOT && NOT_PRODUCT.has(entry.name)) continue;
        walk(full);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(full);
    }
  };
  walk(ROOT);
  return files;
}

/** Every `class X extends Y` in the product whose chain ends in Error, with whether it passes through ProductError. */
function errorClasses(): { key: string; name: string; isProductError: boolean }[] {
  const parents = new Map<string, { parent: string; key: string }>();
  for (const file of productFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\bclass\s+(\w+)\s+extends\s+([\w.]+)/g)) {
      parents.set(match[1]!, { parent: match[2]!, key: `${path.relative(ROOT, file).split(path.sep).join('/')}:${match[1]}` });
    }
  }
  const result: { key: string; name: string; isProductError: boolean }[] = [];
  for (const [name, { key }] of parents) {
    if (name === 'ProductError') continue;
    let current = name;
    let product = false;
    const seen = new Set<string>();
    while (parents.has(current) && !seen.has(current)) {
      seen.add(current);
      current = parents.get(current)!.parent;
      if (current === 'ProductError') product = true;
    }
    // The chain's root outside the product: an error only if it is Error (or a built-in *Error).
    if (product || /Error$/.test(current)) result.push({ key, name, isProductError: product });
  }
  return result;
}

describe('one error model', () => {
  const classes = errorClasses();

  it('finds the error classes (the scan works)', () => {
    expect(classes.map((c) => c.name)).toEqual(
      expect.arrayContaining(['UsageError', 'ConfigError', 'ToolRefusal', 'TenantScopeError', 'TelegramSendError']),
    );
  });

  it('every error class in the product is a ProductError or is listed with its reason', () => {
    const unlisted = classes.filter((c) => !c.isProductError && !(c.key in NOT_PRODUCT_ERRORS)).map((c) => c.key);
    expect(unlisted, 'extend ProductError (errors/index.ts) with a category, or list the class here with why it is not one').toEqual([]);
  });

  it('lists no class that is gone or has become a ProductError', () => {
    const plain = new Set(classes.filter((c) => !c.isProductError).map((c) => c.key));
    expect(Object.keys(NOT_PRODUCT_ERRORS).filter((key) => !plain.has(key))).toEqual([]);
  });

  it('turns each category into an exit code and an HTTP status', () => {
    const table = Object.fromEntries(ERROR_CATEGORIES.map((category) => [category, [exitCodeFor(category), httpStatusFor(category)]]));
    expect(table).toEqual({
      usage: [2, 400],
      config: [2, 500],
      unavailable: [1, 503],
      conflict: [1, 409],
      bad_data: [1, 422],
      forbidden: [1, 403],
      not_found: [1, 404],
    } satisfies Record<ErrorCategory, [number, number]>);
  });

  it('gives a tool refusal the category of its code', () => {
    for (const code of ['forbidden', 'not_found', 'unavailable'] as const) {
      const refusal = new ToolRefusal(code, 'no');
      expect(refusal).toBeInstanceOf(ProductError);
      expect(refusal.category).toBe(code);
    }
  });

  it('answers a product error over HTTP with its category and status, anything else with 500', async () => {
    const logger = createLogger(
      { log: { level: 'silent', format: 'json' } },
      { destination: new Writable({ write: (_c, _e, done) => done() }) },
    );
    const app = createApp({
      database: {} as DatabaseHandle,
      metrics: createMetrics({ defaultMetrics: false }),
      logger,
      version: '0',
      startedAt: new Date(),
    });
    app.get('/usage', () => {
      throw new UsageError('say which bot');
    });
    app.get('/refused', () => {
      throw new ToolRefusal('forbidden', 'not yours');
    });
    app.get('/bug', () => {
      throw new Error('secret detail');
    });
    const usage = await app.request('/usage');
    expect([usage.status, await usage.json()]).toEqual([400, { error: 'usage', message: 'say which bot' }]);
    const refused = await app.request('/refused');
    expect([refused.status, await refused.json()]).toEqual([403, { error: 'forbidden', message: 'not yours' }]);
    const bug = await app.request('/bug');
    expect(bug.status).toBe(500);
    expect(JSON.stringify(await bug.json())).not.toContain('secret detail');
  });
});
