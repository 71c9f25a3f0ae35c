import { describe, expect, it } from 'vitest';
import { AGENT_NAMES } from '../../agents/index.ts';
import type { Department, StaffRole } from '../../db/index.ts';
import { askableAgents, escapeMarkdown, markdownToPlainText, markdownToTelegramHtml, mayAsk, parseCommand } from '../../telegram/index.ts';
import { approvalButton } from '../../telegram/approvals.ts';
import { forceExitData, traderArgs } from '../../telegram/trader.ts';
import type { Actor } from '../../tools/index.ts';
import { lcg } from '../support/random.ts';

const member = (department: Department, role: StaffRole = 'member'): Actor => ({
  kind: 'staff',
  userId: 'u',
  staffId: 's',
  tenantId: 't',
  department,
  role,
  name: 'N',
});

describe('Markdown to Telegram HTML', () => {
  it('renders bold, italic, code, links, headings and bullets, escaping everything else', () => {
    expect(markdownToTelegramHtml('**MRR** é R$ 1.234,56 <b> & _itálico_')).toBe('<b>MRR</b> é R$ 1.234,56 &lt;b&gt; &amp; <i>itálico</i>');
    expect(markdownToTelegramHtml('### Resumo\n* item **um**\n- `a<b>`')).toBe(
      '<b>Resumo</b>\n• item <b>um</b>\n• <code>a&lt;b&gt;</code>',
    );
    expect(markdownToTelegramHtml('```ts\nif (a < b) x();\n```')).toBe('<pre><code class="language-ts">if (a &lt; b) x();</code></pre>');
    expect(markdownToTelegramHtml('[painel](https://x.com/?a=1&b="2")')).toBe(
      '<a href="https://x.com/?a=1&amp;b=&quot;2&quot;">painel</a>',
    );
    expect(markdownToTelegramHtml('**negrito com _itálico_ dentro**')).toBe('<b>negrito com <i>itálico</i> dentro</b>');
  });

  it('keeps snake_case, arithmetic, unsafe links and escaped markers as text', () => {
    expect(markdownToTelegramHtml('trading_kill_switch e max_open_positions')).toBe('trading_kill_switch e max_open_positions');
    expect(markdownToTelegramHtml('2*3*4 = 24 e a * b')).toBe('2*3*4 = 24 e a * b');
    expect(markdownToTelegramHtml('[x](javascript:alert(1))')).toBe('[x](javascript:alert(1))');
    expect(markdownToTelegramHtml(escapeMarkdown('bot *rápido* [1]_x_'))).toBe('bot *rápido* [1]_x_');
  });

  it('always yields balanced tags, whatever the input', () => {
    const pieces = [
      '**',
      '*',
      '_',
      '__',
      '`',
      '```',
      '[',
      ']',
      '(',
      ')',
      'https://a.b',
      '<',
      '>',
      '&',
      'palavra',
      ' ',
      '\n',
      '#',
      '- ',
      '~~',
    ];
    const random = lcg(3);
    for (let round = 0; round < 500; round++) {
      const text = Array.from({ length: 30 }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      const html = markdownToTelegramHtml(text);
      const stack: string[] = [];
      for (const [, close, name] of html.matchAll(/<(\/?)([a-z]+)[^>]*>/g)) {
        if (close) expect(stack.pop(), text).toBe(name);
        else stack.push(name!);
      }
      expect(stack, text).toEqual([]);
      expect(html.replace(/<\/?[a-z]+[^>]*>/g, '')).not.toMatch(/[<>]/);
      expect(markdownToPlainText(text)).not.toContain('<b>');
    }
  });
});

describe('commands and arguments', () => {
  it('parses commands, mentions and arguments', () => {
    expect(parseCommand('/ask finance qual o MRR?')).toEqual({ name: 'ask', mention: undefined, rest: 'finance qual o MRR?', valid: true });
    expect(parseCommand('/Status@BotCriptoFyBot')).toEqual({ name: 'status', mention: 'BotCriptoFyBot', rest: '', valid: true });
    expect(parseCommand('/etc/passwd')).toMatchObject({ name: 'etc', valid: false });
    expect(parseCommand('olá /status')).toBeUndefined();
    expect(parseCommand('/ 123')).toBeUndefined();
  });

  it('validates trader arguments with zod', () => {
    expect(traderArgs.bot.safeParse(['2']).success).toBe(true);
    expect(traderArgs.bot.safeParse(['5b435f95']).success).toBe(true);
    expect(traderArgs.bot.safeParse(["'; drop table bots; --"]).success).toBe(false);
    expect(traderArgs.forceexit.parse(['1', 'btcusdt'])).toEqual(['1', 'BTC/USDT']);
    expect(traderArgs.forceexit.parse(['1', 'eth-usdt'])).toEqual(['1', 'ETH/USDT']);
    expect(traderArgs.forceexit.safeParse(['1', '../../etc']).success).toBe(false);
    expect(traderArgs.period.safeParse(['61']).success).toBe(false);
    expect(traderArgs.profit.safeParse(['-5']).success).toBe(false);
    expect(traderArgs.backtest.parse(['rsi', 'solusdt', '4h', '90'])).toEqual(['rsi', 'SOL/USDT', '4h', 90]);
  });

  it('reads button data strictly', () => {
    const id = '0b7f6c1e-3a2d-4c5b-9e8f-7a6b5c4d3e2f';
    expect(approvalButton.parse(`approval:${id}:approve`)).toEqual({ approvalId: id, decision: 'approve' });
    expect(approvalButton.safeParse(`approval:${id}:approve;drop`).success).toBe(false);
    expect(approvalButton.safeParse('approval:not-a-uuid-but-36-characters-long!!:reject').success).toBe(false);
    expect(forceExitData.parse(`fx:${id.replace(/-/g, '')}:BTC/USDT:y`)).toEqual({ botId: id, symbol: 'BTC/USDT', confirmed: true });
    expect(forceExitData.parse(`fx:${id.replace(/-/g, '')}:*:n`)).toEqual({ botId: id, symbol: undefined, confirmed: false });
    expect(forceExitData.safeParse(`fx:${id}:*:y`).success).toBe(false);
  });
});

describe('who may /ask which agent', () => {
  it('lets the CEO and admins ask every agent', () => {
    expect(askableAgents(member('ceo', 'ceo'))).toEqual(AGENT_NAMES);
    expect(askableAgents(member('support', 'admin'))).toEqual(AGENT_NAMES);
  });

  it('lets others ask their own agent, and another only for a tool their policy allows that their agent lacks', () => {
    expect(mayAsk(member('marketing'), 'finance')).toEqual({ allowed: false, reason: 'department' });
    expect(mayAsk(member('marketing', 'head'), 'finance')).toEqual({ allowed: false, reason: 'department' });
    expect(mayAsk(member('marketing'), 'marketing')).toEqual({ allowed: true });
    expect(mayAsk(member('marketing'), 'documents')).toEqual({ allowed: true });
    expect(mayAsk(member('support'), 'finance')).toEqual({ allowed: true }); // list_plans
    expect(mayAsk(member('finance'), 'ceo')).toEqual({ allowed: false, reason: 'ceo_only' });
    expect(mayAsk({ kind: 'trader', userId: 'u', tenantId: 't', name: 'T' }, 'support')).toEqual({ allowed: false, reason: 'not_staff' });
    for (const department of AGENT_NAMES) expect(askableAgents(member(department))).toContain(department);
  });
});
