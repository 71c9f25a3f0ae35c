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

/** Rewrites BENCHMARKS.md with `body` (what `npm run bench` measured), keeping the soak's section. */
export function writeBenchmarks(body: string): void {
  const soak = soakSection();
  fs.writeFileSync(FILE, `${body.trimEnd()}\n${soak ? `\n${soak}\n` : ''}`);
}

/** Puts the soak's section in BENCHMARKS.md in place of the previous one (at the end). */
export function writeSoakSection(section: string): void {
  const text = fs.readFileSync(FILE, 'utf8');
  const old = soakSection();
  const without = old ? text.replace(old, '').trimEnd() : text.trimEnd();
  fs.writeFileSync(FILE, `${without}\n\n${section.trimEnd()}\n`);
}
