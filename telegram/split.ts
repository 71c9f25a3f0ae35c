/** Telegram refuses a text message longer than this (UTF-16 code units, as JavaScript counts). */
export const TELEGRAM_TEXT_LIMIT = 4096;

const FENCE = /```[^\n`]*\n[\s\S]*?```/g;
// Entities that must stay in one message: inline code, links, bold/italic/strike on one line.
const INLINE = /`[^`\n]+`|\[[^\]\n]*\]\([^)\s]*\)|\*\*[^*\n]+?\*\*|__[^_\n]+?__|\*[^*\n]+?\*|_[^_\n]+?_|~[^~\n]+?~/g;

type Interval = readonly [start: number, end: number];

/**
 * Splits a (Markdown) text into messages of at most `limit` characters: at a paragraph break
 * when one is in the second half of the window, else at a line break, else between words;
 * never inside a word, a code block, inline code, a link or an emphasis span. A code block
 * longer than a message is cut at line breaks into several closed blocks; a single "word"
 * longer than a message (a huge URL) is the only thing ever cut mid-way, and never inside a
 * surrogate pair. The whitespace at a break is dropped; everything else is kept in order.
 */
export function splitMessage(text: string, limit: number = TELEGRAM_TEXT_LIMIT): string[] {
  if (!Number.isInteger(limit) || limit < 16) throw new RangeError(`limit must be an integer ≥ 16, got ${limit}`);
  const source = text.replace(/\s+$/, '');
  if (source.trim() === '') return [];
  if (source.length <= limit) return [source];
  const prepared = splitLongFences(source, limit);
  // blocked[b]: a break at b would fall inside an entity.
  const blocked = new Uint8Array(prepared.length + 1);
  for (const [start, end] of protectedIntervals(prepared, limit)) blocked.fill(1, start + 1, end);
  const chunks: string[] = [];
  let pos = skipSpace(prepared, 0);
  while (prepared.length - pos > limit) {
    const cut = breakPoint(prepared, pos, limit, blocked);
    const chunk = prepared.slice(pos, cut).replace(/\s+$/, '');
    if (chunk) chunks.push(chunk);
    pos = skipSpace(prepared, cut);
  }
  const rest = prepared.slice(pos).replace(/\s+$/, '');
  if (rest) chunks.push(rest);
  return chunks;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/** Where to end the chunk starting at `pos` (exclusive); the character there is dropped if it is whitespace. */
function breakPoint(text: string, pos: number, limit: number, blocked: Uint8Array): number {
  const end = pos + limit; // a break at `end` gives a chunk of exactly `limit`
  const last = (accept: (b: number) => boolean): number | undefined => {
    for (let b = end; b > pos; b--) if (blocked[b] === 0 && accept(b)) return b;
    return undefined;
  };
  const paragraph = last((b) => text[b] === '\n' && text[b - 1] === '\n');
  if (paragraph !== undefined && paragraph - pos >= limit / 2) return paragraph;
  const line = last((b) => text[b] === '\n');
  if (line !== undefined && line - pos >= limit / 2) return line;
  const space = last((b) => /\s/.test(text[b] ?? ''));
  if (space !== undefined) return space;
  if (paragraph !== undefined) return paragraph;
  if (line !== undefined) return line;
  // One unbreakable run longer than a message: cut it, keeping surrogate pairs whole.
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

/** Code blocks, inline code, links and emphasis spans short enough to keep whole. */
function protectedIntervals(text: string, limit: number): Interval[] {
  const spans: Interval[] = [];
  const fences: Interval[] = [];
  for (const m of text.matchAll(FENCE)) fences.push([m.index, m.index + m[0].length]);
  let from = 0;
  const scan = (to: number) => {
    const segment = text.slice(from, to);
    for (const m of segment.matchAll(INLINE)) {
      // Emphasis markers glued to letters (snake_case, 2*3*4) are not entities.
      const start = from + m.index;
      const endAt = start + m[0].length;
      if (/^[_*~]/.test(m[0]) && (/\w/.test(text[start - 1] ?? '') || /\w/.test(text[endAt] ?? ''))) continue;
      spans.push([start, endAt]);
    }
  };
  for (const fence of fences) {
    scan(fence[0]);
    spans.push(fence);
    from = fence[1];
  }
  scan(text.length);
  return spans.filter(([s, e]) => e - s <= limit);
}

/** Rewrites every fenced block longer than `limit` as consecutive closed blocks that fit. */
function splitLongFences(text: string, limit: number): string {
  return text.replace(FENCE, (block) => {
    if (block.length <= limit) return block;
    const opener = block.slice(0, block.indexOf('\n') + 1); // ```lang\n
    const closer = '\n```';
    const body = block.slice(opener.length, block.length - 3).replace(/\n$/, '');
    const room = limit - opener.length - closer.length;
    const pieces: string[] = [];
    let lines: string[] = [];
    let size = -1; // characters of lines.join('\n')
    const flush = () => {
      pieces.push(`${opener}${lines.join('\n')}${closer}`);
      lines = [];
      size = -1;
    };
    const add = (line: string) => {
      if (lines.length > 0 && size + 1 + line.length > room) flush();
      lines.push(line);
      size += 1 + line.length;
    };
    for (const line of body.split('\n')) {
      let rest = line;
      while (rest.length > room) {
        let cut = room;
        const code = rest.charCodeAt(cut - 1);
        if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
        add(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      add(rest);
    }
    if (lines.length > 0) flush();
    return pieces.join('\n');
  });
}
