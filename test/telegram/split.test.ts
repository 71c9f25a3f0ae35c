import { describe, expect, it } from 'vitest';
import { splitMessage, TELEGRAM_TEXT_LIMIT } from '../../telegram/index.ts';

const words = (text: string) => text.split(/\s+/).filter(Boolean);
const fences = (text: string) => (text.match(/```/g) ?? []).length;

/** A deterministic pseudo-random source (mulberry32), so a failing case can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkInvariants(chunks: string[], limit: number) {
  for (const chunk of chunks) {
    expect(chunk.length).toBeLessThanOrEqual(limit);
    expect(chunk.trim()).not.toBe('');
    expect(fences(chunk) % 2, `unbalanced code fences in a chunk`).toBe(0);
    // No lone surrogate at either end.
    expect(/^[\udc00-\udfff]|[\ud800-\udbff]$/.test(chunk)).toBe(false);
  }
}

describe('splitMessage', () => {
  it('leaves a message that fits alone, and drops trailing whitespace', () => {
    expect(splitMessage('Olá, tudo bem?')).toEqual(['Olá, tudo bem?']);
    expect(splitMessage('x'.repeat(TELEGRAM_TEXT_LIMIT))).toHaveLength(1);
    expect(splitMessage('a b \n\n')).toEqual(['a b']);
    expect(splitMessage('   \n ')).toEqual([]);
  });

  it('splits 4,097 characters into two, between words', () => {
    const text = `${'palavra '.repeat(512)}fim`; // 4,099 characters
    const chunks = splitMessage(text);
    expect(chunks).toHaveLength(2);
    checkInvariants(chunks, TELEGRAM_TEXT_LIMIT);
    expect(words(chunks.join(' '))).toEqual(words(text));
  });

  it('never breaks a word, and keeps every word in order (10,000+ characters)', () => {
    const random = rng(7);
    const vocabulary = [
      'receita',
      'MRR',
      'R$ 1.234,56',
      'assinaturas',
      'bot',
      'BTC/USDT',
      'lucro',
      'prejuízo',
      'operações',
      '✅',
      '🚀',
      'churn',
      'a',
      'de',
    ];
    const text = Array.from({ length: 2_500 }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' ');
    const chunks = splitMessage(text);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(text.length / TELEGRAM_TEXT_LIMIT));
    checkInvariants(chunks, TELEGRAM_TEXT_LIMIT);
    expect(words(chunks.join(' '))).toEqual(words(text));
  });

  it('prefers paragraph breaks, then line breaks', () => {
    const paragraph = (n: number) => `${'linha de texto '.repeat(20).trim()} ${n}`;
    const text = Array.from({ length: 30 }, (_, i) => paragraph(i)).join('\n\n');
    const chunks = splitMessage(text, 1_000);
    for (const chunk of chunks) expect(chunk).toMatch(/\d$/); // each ends where a paragraph ends
    expect(chunks.join('\n\n')).toBe(text);
    const lines = Array.from({ length: 80 }, (_, i) => `- item ${i}: ${'x'.repeat(20)}`).join('\n');
    const byLine = splitMessage(lines, 500);
    expect(byLine.join('\n')).toBe(lines);
    for (const chunk of byLine) expect(chunk.startsWith('- item')).toBe(true);
  });

  it('keeps a code block whole when it fits, even across the limit', () => {
    const code = `\`\`\`ts\n${Array.from({ length: 30 }, (_, i) => `const value${i} = compute(${i});`).join('\n')}\n\`\`\``;
    const text = `${'texto '.repeat(600)}\n${code}\n${'mais texto '.repeat(100)}`;
    const chunks = splitMessage(text);
    checkInvariants(chunks, TELEGRAM_TEXT_LIMIT);
    expect(chunks.some((chunk) => chunk.includes(code))).toBe(true);
  });

  it('cuts a code block longer than a message into closed blocks at line breaks', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i}: ${'y'.repeat(15)}`);
    const text = `Here is the log:\n\`\`\`\n${lines.join('\n')}\n\`\`\`\nThat's all.`;
    const chunks = splitMessage(text);
    expect(chunks.length).toBeGreaterThan(2);
    checkInvariants(chunks, TELEGRAM_TEXT_LIMIT);
    const codeLines = chunks
      .join('\n')
      .split('\n')
      .filter((line) => line.startsWith('line '));
    expect(codeLines).toEqual(lines);
  });

  it('never splits inline code, links or bold spans', () => {
    const entity = [
      '`npx botcriptofy approvals list`',
      '[o painel](https://botcriptofy.example/painel?x=1)',
      '**lucro de 12,5 %**',
      '_itálico aqui_',
    ];
    const random = rng(11);
    for (let round = 0; round < 40; round++) {
      const parts: string[] = [];
      while (parts.join(' ').length < 9_000) parts.push(random() < 0.2 ? entity[Math.floor(random() * entity.length)]! : 'palavra');
      const text = parts.join(' ');
      const limit = 200 + Math.floor(random() * 300);
      const chunks = splitMessage(text, limit);
      checkInvariants(chunks, limit);
      for (const chunk of chunks) {
        expect((chunk.match(/`/g) ?? []).length % 2).toBe(0);
        expect((chunk.match(/\*\*/g) ?? []).length % 2).toBe(0);
        expect((chunk.match(/\[/g) ?? []).length).toBe((chunk.match(/\]\(/g) ?? []).length);
      }
      expect(chunks.join(' ')).toBe(text);
    }
  });

  it('does not mistake snake_case for emphasis', () => {
    const text = Array.from({ length: 300 }, (_, i) => `trading_kill_switch_${i}`).join(' ');
    const chunks = splitMessage(text, 500);
    checkInvariants(chunks, 500);
    expect(chunks.join(' ')).toBe(text);
  });

  it('cuts a single huge word only where it must, never inside an emoji', () => {
    const huge = `https://example.com/${'🚀a'.repeat(3_000)}`;
    const chunks = splitMessage(`veja ${huge} ok`);
    checkInvariants(chunks, TELEGRAM_TEXT_LIMIT);
    expect(chunks.join('').replace(/\s/g, '')).toBe(`veja${huge}ok`);
  });

  it('holds its invariants on random mixed text', () => {
    const random = rng(2026);
    const atoms = ['word', 'palavra', '\n', '\n\n', '`code`', '**b**', '🚀', 'x'.repeat(50), '```\nlet a = 1;\n```'];
    for (let round = 0; round < 100; round++) {
      const length = 500 + Math.floor(random() * 5_000);
      let text = '';
      while (text.length < length) text += `${atoms[Math.floor(random() * atoms.length)]} `;
      const limit = 64 + Math.floor(random() * 1_000);
      const chunks = splitMessage(text, limit);
      checkInvariants(chunks, limit);
      expect(words(chunks.join(' '))).toEqual(words(text));
    }
  });
});
