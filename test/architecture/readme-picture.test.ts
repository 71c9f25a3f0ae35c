import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { relativeImportsOf, rel, ROOT, sourceFiles } from '../support/source-files.ts';

// The README's architecture picture is read as the rule it draws (issue 20): the columns of
// its box are layers, from the doors on the left to the domain on the right, and the lines
// under the box are the basics any layer uses. Every folder of the product stands in it, and
// no import runs from a column to one left of it — except the few listed here with why.

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The fenced block right under "## Architecture". */
function picture(): string {
  const section = README.slice(README.indexOf('\n## Architecture'));
  const block = /```\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README: no picture under "## Architecture"');
  return block[1]!;
}

const BASICS = Number.POSITIVE_INFINITY;

/** Folder → its column in the box (0 = doors … 3 = domain), BASICS for the lines under it. */
function layersOfPicture(text: string): Map<string, number> {
  const lines = text.split('\n');
  // The columns are the boxes: each starts at a '┌' of the box's top line.
  const top = lines.find((line) => line.includes('┌'));
  if (!top) throw new Error('README picture: no box');
  const starts = [...top.matchAll(/┌/g)].map((corner) => corner.index);
  if (starts.length !== 4) throw new Error(`README picture: ${starts.length} columns, expected doors, decisions, surface, domain`);
  const boxEnd = lines.findLastIndex((line) => line.includes('└'));
  const layers = new Map<string, number>();
  lines.forEach((line, index) => {
    for (const match of line.matchAll(/\b([a-z][a-z0-9-]*)\/(?![a-z])/g)) {
      const folder = match[1]!;
      if (layers.has(folder)) continue;
      if (index > boxEnd) layers.set(folder, BASICS);
      else layers.set(folder, starts.filter((start) => match.index > start).length - 1);
    }
  });
  return layers;
}

/** Top-level folders holding product code (tests, benchmarks and tooling are not the product). */
const NOT_PRODUCT = new Set(['test', 'bench', 'node_modules', 'data', 'bin', 'deploy', 'docs', 'eval', 'candles']);
const productFolders = fs
  .readdirSync(ROOT, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !NOT_PRODUCT.has(entry.name))
  .filter((entry) => sourceFiles(path.join(ROOT, entry.name)).length > 0)
  .map((entry) => entry.name);

/** Imports that run against the picture's arrows on purpose, each with why (exact file → folder). */
const AGAINST_THE_FLOW: ReadonlyMap<string, string> = new Map([]);

describe('the README architecture picture matches the imports (issue 20)', () => {
  const layers = layersOfPicture(picture());

  it('names every folder of the product', () => {
    expect(productFolders.filter((folder) => !layers.has(folder))).toEqual([]);
    expect(layers.get('cli')).toBe(0);
    expect(layers.get('workflows')).toBe(1);
    expect(layers.get('tools')).toBe(2);
    expect(layers.get('db')).toBe(3);
    expect(layers.get('config')).toBe(BASICS);
  });

  it('no import runs from a column to one left of it, and the basics import no column', () => {
    const offences: string[] = [];
    const used = new Set<string>();
    for (const folder of productFolders) {
      const from = layers.get(folder);
      if (from === undefined) continue;
      for (const file of sourceFiles(path.join(ROOT, folder))) {
        for (const found of relativeImportsOf(file)) {
          const target = found.target.split('/')[0]!;
          const to = layers.get(target);
          if (to === undefined || target === folder) continue;
          const againstFlow = from === BASICS ? to !== BASICS : to < from;
          if (!againstFlow) continue;
          const key = `${rel(file)} → ${target}/`;
          if (AGAINST_THE_FLOW.has(key)) used.add(key);
          else offences.push(key);
        }
      }
    }
    expect(offences).toEqual([]);
    expect(
      [...AGAINST_THE_FLOW.keys()].filter((key) => !used.has(key)),
      'listed exceptions that no longer happen',
    ).toEqual([]);
  });
});
