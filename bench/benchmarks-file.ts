import fs from 'node:fs';

const FILE = new URL('../BENCHMARKS.md', import.meta.url);
const SOAK = '## Soak';

/** The soak's section of BENCHMARKS.md (written by `npm run soak -- --write`), or ''. */
export function soakSection(): string {
  const text = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '';
  const start = text.indexOf(`\n${SOAK}`);
  if (start < 0) return '';
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start + 1, next < 0 ? undefined : next + 1).trimEnd();
}

/** Sections written by their own scripts (not `npm run bench`), by title prefix: kept when the rest is rewritten. */
const OWN_SECTIONS = ['## Backups', '## Server backups', '## Privacy', '## HTTP API', "## Trader's assistant", '## Walk-forward review'];

/** The section of BENCHMARKS.md whose title starts with `title`, or ''. */
export function ownSection(title: string): string {
  const text = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '';
  const start = text.indexOf(`\n${title}`);
  if (start < 0) return '';
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start + 1, next < 0 ? undefined : next + 1).trimEnd();
}

/** Puts a script's own section in BENCHMARKS.md in place of its previous one (before the soak's). */
export function writeOwnSection(title: string, section: string): void {
  const text = fs.readFileSync(FILE, 'utf8');
  const old = ownSection(title);
  const soak = soakSection();
  let body = old ? text.replace(old, '') : text;
  if (soak) body = body.replace(soak, '');
  fs.writeFileSync(FILE, `${body.trimEnd()}\n\n${section.trimEnd()}\n${soak ? `\n${soak}\n` : ''}`);
}

/** Rewrites BENCHMARKS.md with `body` (what `npm run bench` measured), keeping the soak's section and the scripts' own. */
export function writeBenchmarks(body: string): void {
  const soak = soakSection();
  const own = OWN_SECTIONS.map(ownSection).filter(Boolean);
  fs.writeFileSync(FILE, `${body.trimEnd()}\n${own.map((section) => `\n${section}\n`).join('')}${soak ? `\n${soak}\n` : ''}`);
}

/** Puts the soak's section in BENCHMARKS.md in place of the previous one (at the end). */
export function writeSoakSection(section: string): void {
  const text = fs.readFileSync(FILE, 'utf8');
  const old = soakSection();
  const without = old ? text.replace(old, '').trimEnd() : text.trimEnd();
  fs.writeFileSync(FILE, `${without}\n\n${section.trimEnd()}\n`);
}
