import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository's own TypeScript, read as text, for the architecture tests (which imports
// what, which classes extend what): no module is run.

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Not source: dependencies, generated and runtime data. */
const NEVER = new Set(['node_modules', 'data', 'coverage', 'dist']);

/** A path from the repository root, with forward slashes. */
export const rel = (file: string): string => path.relative(ROOT, file).split(path.sep).join('/');

/** Every .ts file under `dir` (absolute paths), hidden folders and NEVER's left out. */
export function sourceFiles(dir: string = ROOT): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.') || NEVER.has(entry.name)) return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

export interface ImportOf {
  /** The module as written. */
  readonly specifier: string;
  /** The names taken from it; `*` for the whole module (a namespace, `export *` or a dynamic import). */
  readonly names: readonly string[];
  /** Only types (`import type …`, `export type …`): nothing runs. */
  readonly typeOnly: boolean;
}

/** Every import, re-export and dynamic import of a source text, with the names it takes. */
export function importsIn(source: string): ImportOf[] {
  // Comments out first (a commented-out import is not one); string contents are left alone.
  const text = source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const found: ImportOf[] = [];
  const named = (list: string) =>
    list
      .split(',')
      .map((part) => part.trim().replace(/^type\s+/, ''))
      .filter((part) => part !== '')
      .map((part) => part.split(/\s+as\s+/)[0]!.trim());
  for (const match of text.matchAll(/(?:^|[;\n])\s*import\s+(type\s+)?([^;'"`]*?)\s*\bfrom\s*(['"])([^'"]+)\3/g)) {
    const clause = match[2]!.trim();
    const names: string[] = [];
    const braces = /\{([^}]*)\}/.exec(clause);
    if (braces) names.push(...named(braces[1]!));
    if (/\*\s*as\s+\w+/.test(clause)) names.push('*');
    const head = clause
      .replace(/\{[^}]*\}/, '')
      .replace(/\*\s*as\s+\w+/, '')
      .replace(/,/g, ' ')
      .trim();
    if (head !== '') names.push('default');
    found.push({ specifier: match[4]!, names, typeOnly: match[1] !== undefined });
  }
  for (const match of text.matchAll(/(?:^|[;\n])\s*export\s+(type\s+)?(\*(?:\s*as\s+\w+)?|\{[^}]*\})\s*from\s*(['"])([^'"]+)\3/g)) {
    const clause = match[2]!;
    found.push({
      specifier: match[4]!,
      names: clause.startsWith('*') ? ['*'] : named(clause.slice(1, -1)),
      typeOnly: match[1] !== undefined,
    });
  }
  for (const match of text.matchAll(/(?:^|[;\n])\s*import\s*(['"])([^'"]+)\1/g))
    found.push({ specifier: match[2]!, names: [], typeOnly: false });
  for (const match of text.matchAll(/\bimport\(\s*(['"])([^'"]+)\1\s*\)/g))
    found.push({ specifier: match[2]!, names: ['*'], typeOnly: false });
  return found;
}

/** The repository files a file's relative imports reach (paths from the root), each with how it imports. */
export function relativeImportsOf(file: string, source = fs.readFileSync(file, 'utf8')): (ImportOf & { readonly target: string })[] {
  return importsIn(source)
    .filter((found) => found.specifier.startsWith('.'))
    .map((found) => ({ ...found, target: rel(path.resolve(path.dirname(file), found.specifier)) }));
}
