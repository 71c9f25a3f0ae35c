import { describe, expect, it } from 'vitest';
import { AGENT_TOOLSETS } from '../agents/index.ts';
import { departments } from '../db/index.ts';
import {
  EvalFileError,
  HELDOUT_MESSAGES_FILE,
  loadEvalMessages,
  parseEvalMessages,
  TRAINING2_MESSAGES_FILE,
  TRAINING_MESSAGES_FILE,
} from '../eval/messages.ts';
import { evaluateOffline, formatEvaluation } from '../eval/offline.ts';

describe('evaluation set', () => {
  it('is valid, balanced between pt-BR and English, and covers every agent', async () => {
    const messages = await loadEvalMessages();
    expect(messages.length).toBeGreaterThanOrEqual(150);
    const pt = messages.filter((m) => m.locale === 'pt-BR').length;
    expect(pt * 2).toBe(messages.length);
    for (const agent of departments) {
      expect(messages.filter((m) => m.agent === agent).length, agent).toBeGreaterThanOrEqual(10);
      // Department agents are asked for the tools they have; the CEO may call any tool.
      if (agent !== 'ceo') for (const m of messages.filter((x) => x.agent === agent)) expect(AGENT_TOOLSETS[agent], m.id).toContain(m.tool);
    }
    expect(new Set(messages.map((m) => m.message.toLowerCase())).size).toBe(messages.length);
  });

  it('names the line of a bad entry', () => {
    const good = JSON.stringify({ id: 'a', agent: 'finance', locale: 'en', message: 'MRR?', tool: 'revenue_summary' });
    expect(parseEvalMessages(`${good}\n\n`)).toHaveLength(1);
    const cases: [string, RegExp][] = [
      [`${good}\n{not json`, /messages\.jsonl:2: not valid JSON/],
      [`${good}\n${JSON.stringify({ id: 'b', agent: 'cfo', locale: 'en', message: 'MRR?', tool: 'revenue_summary' })}`, /:2: agent: /],
      [`${good}\n${JSON.stringify({ id: 'c', agent: 'finance', locale: 'es', message: 'MRR?', tool: 'revenue_summary' })}`, /:2: locale: /],
      [`${good}\n${good}`, /:2: duplicate id a \(first on line 1\)/],
      [JSON.stringify({ id: 'd', agent: 'finance', locale: 'en', message: 'x?', tool: 'launch_rocket' }), /:1: unknown tool launch_rocket/],
      [
        JSON.stringify({ id: 'e', agent: 'marketing', locale: 'en', message: 'refund it', tool: 'refund_payment' }),
        /:1: the marketing agent may not call refund_payment/,
      ],
      [
        JSON.stringify({ id: 'f', agent: 'finance', locale: 'en', message: 'MRR?', tool: 'revenue_summary', extra: 1 }),
        /:1: line: Unrecognized key/,
      ],
    ];
    for (const [text, error] of cases) {
      expect(() => parseEvalMessages(text)).toThrow(EvalFileError);
      expect(() => parseEvalMessages(text)).toThrow(error);
    }
  });

  it('is routed to the right tool offline at least 90 % of the time', async () => {
    const evaluation = evaluateOffline(await loadEvalMessages());
    console.info(formatEvaluation(evaluation));
    expect(evaluation.overall.accuracy).toBeGreaterThanOrEqual(0.9);
    for (const [agent, accuracy] of Object.entries(evaluation.byAgent)) expect(accuracy.accuracy, agent).toBeGreaterThanOrEqual(0.75);
    expect(evaluation.byLocale['pt-BR'].accuracy).toBeGreaterThanOrEqual(0.85);
    expect(evaluation.byLocale.en.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(evaluation.localeDetection.accuracy).toBeGreaterThanOrEqual(0.95);
  });
});

describe('messages written after the router (eval/heldout.jsonl)', () => {
  it('are valid, balanced, and half of each agent and language held out', async () => {
    const later = await loadEvalMessages(HELDOUT_MESSAGES_FILE);
    expect(later.length).toBeGreaterThanOrEqual(100);
    for (const agent of departments) {
      for (const locale of ['pt-BR', 'en'] as const) {
        const group = later.filter((m) => m.agent === agent && m.locale === locale);
        expect(group.length, `${agent} ${locale}`).toBeGreaterThanOrEqual(5);
        expect(group.filter((m) => m.heldout).length * 2, `${agent} ${locale}`).toBe(group.length);
      }
    }
    const earlier = new Set(
      [
        ...(await loadEvalMessages()),
        ...(await loadEvalMessages(TRAINING_MESSAGES_FILE)),
        ...(await loadEvalMessages(TRAINING2_MESSAGES_FILE)),
      ].map((m) => m.message.toLowerCase()),
    );
    for (const m of later) expect(earlier.has(m.message.toLowerCase()), m.id).toBe(false);
  });

  it.each([
    ['training.jsonl', TRAINING_MESSAGES_FILE, 150],
    ['training2.jsonl', TRAINING2_MESSAGES_FILE, 120],
  ] as const)('training messages (eval/%s) are valid, balanced and never marked held out', async (_name, file, least) => {
    const training = await loadEvalMessages(file);
    expect(training.length).toBeGreaterThanOrEqual(least);
    for (const agent of departments)
      for (const locale of ['pt-BR', 'en'] as const)
        expect(training.filter((m) => m.agent === agent && m.locale === locale).length, `${agent} ${locale}`).toBeGreaterThanOrEqual(6);
    expect(training.filter((m) => m.heldout)).toEqual([]);
    expect(evaluateOffline(training).readsRoutedToWrites).toEqual([]);
  });

  it('the router keeps its held-out score (91.7 % when measured; target 90 %) and never routes a read to a write', async () => {
    const later = await loadEvalMessages(HELDOUT_MESSAGES_FILE);
    const heldout = evaluateOffline(later.filter((m) => m.heldout));
    expect(heldout.overall.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(heldout.readsRoutedToWrites).toEqual([]);
    expect(evaluateOffline(later.filter((m) => !m.heldout)).readsRoutedToWrites).toEqual([]);
  });
});
