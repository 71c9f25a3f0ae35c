// Agents answer in Markdown (what small models write); Telegram's own Markdown modes either
// misread it (legacy) or reject most real text (MarkdownV2 needs dozens of escapes). So the
// Markdown is rendered here into the small HTML subset Telegram accepts, always well formed:
// code blocks, inline code, bold, italic, strike, http(s) links, headings as bold, bullets.
// Everything else is escaped text. A `\` before a marker keeps it literal (see `escapeMarkdown`).

import { escapeHtml } from '../notifications/index.ts';

const ESCAPABLE = /\\([\\`*_[\]()~#>-])/g;

/** Escapes characters the renderer would read as Markdown (for names and values put in a reply). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]~]/g, (c) => `\\${c}`);
}

export { escapeHtml };

const attr = (text: string) => escapeHtml(text).replace(/"/g, '&quot;');

/** Placeholders (private-use characters) hold finished HTML while the rest is processed. */
function holder() {
  const held: string[] = [];
  return {
    put: (html: string) => `\uE000${held.push(html) - 1}\uE001`,
    restore: (text: string) => {
      let out = text;
      // Held pieces may contain other placeholders (a link's label); restore until stable.
      for (let i = 0; i < 4 && out.includes('\uE000'); i++)
        out = out.replace(/\uE000(\d+)\uE001/g, (_m, n: string) => held[Number(n)] ?? '');
      return out;
    },
  };
}

/** Renders Markdown as Telegram HTML (parse_mode HTML). */
export function markdownToTelegramHtml(markdown: string): string {
  const { put, restore } = holder();
  let text = markdown.replace(/[\uE000\uE001]/g, '');
  // 1. Code, whose content is literal.
  text = text.replace(/```([\w+-]*)[ \t]*\n?([\s\S]*?)```/g, (_m, lang: string, code: string) =>
    put(
      lang
        ? `<pre><code class="language-${attr(lang)}">${escapeHtml(code.replace(/\n$/, ''))}</code></pre>`
        : `<pre>${escapeHtml(code.replace(/\n$/, ''))}</pre>`,
    ),
  );
  text = text.replace(/`([^`\n]+)`/g, (_m, code: string) => put(`<code>${escapeHtml(code)}</code>`));
  // 2. Escaped markers stay literal.
  text = text.replace(ESCAPABLE, (_m, c: string) => put(escapeHtml(c)));
  // 3. Links (http and https only: anything else is shown as text).
  text = text.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_m, label: string, url: string) =>
    put(`<a href="${attr(url)}">${inline(label, put)}</a>`),
  );
  // 4. Line structure: headings become bold lines, "* item" bullets become "• item".
  text = text
    .split('\n')
    .map((line) => {
      const heading = /^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
      if (heading) return put(`<b>${inline(heading[1]!, put)}</b>`);
      const bullet = /^(\s*)[*+-]\s+(.*)$/.exec(line);
      if (bullet) return `${bullet[1]}• ${inline(bullet[2]!, put)}`;
      if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) return '──────────';
      return inline(line, put);
    })
    .join('\n');
  return restore(text);
}

const EMPHASIS: readonly [RegExp, string][] = [
  [/(^|[^\w*])\*\*(?=\S)([^*]*?\S)\*\*(?![\w*])/g, 'b'],
  [/(^|[^\w_])__(?=\S)([^_]*?\S)__(?![\w_])/g, 'b'],
  [/(^|[^\w~])~~(?=\S)([^~]*?\S)~~(?![\w~])/g, 's'],
  [/(^|[^\w*])\*(?=\S)([^*]*?\S)\*(?![\w*])/g, 'i'],
  [/(^|[^\w_])_(?=\S)([^_]*?\S)_(?![\w_])/g, 'i'],
];

/** Emphasis within one line; markers glued to letters (snake_case, 2*3*4) are kept as text. */
function inline(line: string, put: (html: string) => string): string {
  return emphasis(escapeHtml(line), 0, put);
}

function emphasis(text: string, from: number, put: (html: string) => string): string {
  let out = text;
  for (let i = from; i < EMPHASIS.length; i++) {
    const [re, tag] = EMPHASIS[i]!;
    // The body may hold weaker emphasis (italic inside bold): rendered with the later rules.
    out = out.replace(re, (_m, before: string, body: string) => `${before}${put(`<${tag}>${emphasis(body, i + 1, put)}</${tag}>`)}`);
  }
  return out;
}

/** The text a reader sees, without any markup (the fallback when Telegram refuses the HTML). */
export function markdownToPlainText(markdown: string): string {
  return markdownToTelegramHtml(markdown)
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}
