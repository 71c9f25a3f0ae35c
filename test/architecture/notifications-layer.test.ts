import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { relativeImportsOf, rel, ROOT, sourceFiles } from '../support/source-files.ts';

// The shape issue 20 asked for, read from the source itself (no database, no imports run):
// notifications/ is a layer of its own below the producers, Telegram is one door and one
// channel that nothing below it reaches into, and charts draw what they are handed.

/** Not product code: the suite and the benchmarks drive the doors from outside. */
const HARNESS = ['test/', 'bench/'];

/** Every relative module a file imports or re-exports (static or dynamic), as a path from the repository root. */
const importsOf = (file: string): string[] => relativeImportsOf(file).map((found) => found.target);

const product = sourceFiles()
  .map((file) => ({ file, name: rel(file) }))
  .filter(({ name }) => !HARNESS.some((prefix) => name.startsWith(prefix)));

describe('notifications as a layer (issue 20)', () => {
  it('finds the product code and its imports', () => {
    expect(product.length).toBeGreaterThan(100);
    expect(importsOf(path.join(ROOT, 'workflows/notify.ts'))).toContain('notifications/index.ts');
  });

  it('nothing outside telegram/ imports from telegram/, except the doors cli/ and server/ through telegram/index.ts', () => {
    const offences: string[] = [];
    for (const { file, name } of product) {
      if (name.startsWith('telegram/')) continue;
      const door = name.startsWith('cli/') || name.startsWith('server/');
      for (const target of importsOf(file)) {
        if (!target.startsWith('telegram/')) continue;
        if (door && target === 'telegram/index.ts') continue;
        offences.push(`${name} → ${target}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('notifications/ imports nothing above it (producers, doors, agents)', () => {
    const above = ['telegram/', 'workflows/', 'billing/', 'trading/', 'workers/', 'agents/', 'tools/', 'cli/', 'server/', 'demo/', 'jobs/'];
    const offences = product
      .filter(({ name }) => name.startsWith('notifications/'))
      .flatMap(({ file, name }) =>
        importsOf(file)
          .filter((target) => above.some((prefix) => target.startsWith(prefix)))
          .map((target) => `${name} → ${target}`),
      );
    expect(offences).toEqual([]);
  });

  it('only notifications/ writes new rows into the notifications table: every producer goes through enqueueNotification', () => {
    const insert = [/\.insert\(\s*(?:\w+\.)?notifications\s*\)/, /\binsert\s+into\s+(?:"?public"?\.)?"?notifications"?[\s(]/i];
    const offences = product
      .filter(({ name }) => !name.startsWith('notifications/'))
      .filter(({ file }) => {
        const text = fs.readFileSync(file, 'utf8');
        return insert.some((pattern) => pattern.test(text));
      })
      .map(({ name }) => name);
    expect(offences).toEqual([]);
    // The scan does see the one place that inserts (so a changed spelling cannot make it blind).
    expect(insert.some((pattern) => pattern.test(fs.readFileSync(path.join(ROOT, 'notifications/enqueue.ts'), 'utf8')))).toBe(true);
  });

  it('charts draw what they are handed: the drawing code reads no tables, and charts and the outbox do not import each other', () => {
    const drawing = ['telegram/charts/charts.ts', 'telegram/charts/svg.ts', 'telegram/charts/render.ts'];
    for (const name of drawing) {
      const imports = importsOf(path.join(ROOT, name));
      expect(
        imports.filter((target) => target.startsWith('db/')),
        name,
      ).toEqual([]);
    }
    const charts = product.filter(({ name }) => name.startsWith('telegram/charts/'));
    expect(
      charts.flatMap(({ file, name }) =>
        importsOf(file)
          .filter((target) => target.startsWith('telegram/outbox/'))
          .map((target) => `${name} → ${target}`),
      ),
    ).toEqual([]);
    const outboxProtocol = product.filter(({ name }) => name.startsWith('notifications/'));
    expect(
      outboxProtocol.flatMap(({ file, name }) =>
        importsOf(file)
          .filter((target) => target.includes('/charts/'))
          .map((target) => `${name} → ${target}`),
      ),
    ).toEqual([]);
  });
});
