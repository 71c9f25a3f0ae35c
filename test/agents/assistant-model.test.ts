import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftFromWords, groundedHints, modelHints, ModelGateway } from '../../agents/index.ts';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import type { Actor } from '../../tools/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { startFakeOllama, type FakeOllama, type OllamaChatRequest } from '../support/fake-ollama.ts';

// The trader's assistant with a model (issue 22): the rules draft alone; a model may only fill
// what the words left open, as JSON matching the hints' schema (sent as Ollama's `format`),
// checked again and grounded in the words. A bad small model, a down one or a chatty one
// changes nothing: the draft keeps its questions and never spends an amount nobody wrote.

describe("the trader's assistant and its model", () => {
  let ollama: FakeOllama;
  let reply: (request: OllamaChatRequest) => string = () => '{}';
  let test: TestDatabase;
  let trader: Actor;
  const gateway = () => new ModelGateway({ host: ollama.url, model: 'qwen3:0.6b', agentModels: {}, timeoutMs: 2_000 });

  beforeAll(async () => {
    ollama = await startFakeOllama((request) => ({ content: reply(request) }));
    test = await createTestDatabase('pglite');
    const tenantId = crypto.randomUUID();
    const userId = crypto.randomUUID();
    await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Rui' });
    await test.handle.db.insert(db.users).values({ id: userId, tenantId, email: 'rui@example.com', name: 'Rui' });
    trader = { kind: 'trader', userId, tenantId, name: 'Rui' };
  }, 120_000);
  afterAll(async () => {
    await ollama?.close();
    await test?.dispose();
  });

  const runtime = (model?: ModelGateway) => ({
    ctx: { db: test.handle.db, billing: new BillingService(test.handle.db, undefined), now: () => new Date('2026-11-01T12:00:00Z') },
    model,
  });
  type Card = { symbols: string[]; stakeQuote: string | null; questions: { field: string }[] };
  const card = (outcome: unknown) => (outcome as { result: { draft: Card } }).result.draft;

  it('asks only about the open fields, with their schema as the format, and takes a grounded answer', async () => {
    reply = () => JSON.stringify({ symbols: ['PEPE/USDT'] });
    const outcome = await draftFromWords(runtime(gateway()), trader, 'robô RSI no PEPE de 1h com 500 USDT');
    expect(card(outcome)).toMatchObject({ symbols: ['PEPE/USDT'], stakeQuote: '500', questions: [] });
    const request = ollama.chats.at(-1)!;
    expect(Object.keys((request.format as { properties: object }).properties)).toEqual(['symbols']);
    expect(request.messages.at(-1)!.content).toBe('robô RSI no PEPE de 1h com 500 USDT');
  });

  it('a bad model changes nothing: an amount nobody wrote, a coin nobody named, text, a wrong shape', async () => {
    for (const bad of [
      JSON.stringify({ stakeQuote: 5000 }),
      JSON.stringify({ symbols: ['BTC/USDT'] }),
      'Claro! Seu robô vai usar 1000 USDT no BTC.',
      JSON.stringify({ stakeQuote: '1000', strategy: 'martingale' }),
    ]) {
      reply = () => bad;
      const draft = card(await draftFromWords(runtime(gateway()), trader, 'robô RSI de 1h no PEPINO'));
      expect(draft.stakeQuote, bad).toBeNull();
      expect(draft.symbols, bad).toEqual([]);
      expect(draft.questions.map((q) => q.field).sort(), bad).toEqual(['stakeQuote', 'symbols']);
    }
  });

  it('with the model offline the rules draft alone', async () => {
    const down = new ModelGateway({ host: 'http://127.0.0.1:9', model: 'qwen3:0.6b', agentModels: {}, timeoutMs: 500 });
    expect(await modelHints(down, 'RSI no ETH', ['stakeQuote'])).toEqual({});
    const draft = card(
      await draftFromWords(runtime(down), trader, 'quero um robô RSI no ETH de 1h, stop de 3 %, sem gastar mais que 500 USDT'),
    );
    expect(draft).toMatchObject({ symbols: ['ETH/USDT'], stakeQuote: '500', questions: [] });
    // Nothing asked of a model when the words say everything.
    const before = ollama.chats.length;
    await draftFromWords(runtime(gateway()), trader, 'quero um robô RSI no ETH de 1h, stop de 3 %, sem gastar mais que 500 USDT');
    expect(ollama.chats.length).toBe(before);
  });

  it('grounds amounts in the digits the trader wrote', () => {
    expect(groundedHints('rsi eth 1h com 1.500 usdt', { stakeQuote: 1500 })).toEqual({ stakeQuote: 1500 });
    expect(groundedHints('rsi eth 1h', { stakeQuote: 1500, stopLossPct: 3 })).toEqual({});
  });

  it('serves traders only', async () => {
    const staff: Actor = {
      kind: 'staff',
      userId: crypto.randomUUID(),
      staffId: crypto.randomUUID(),
      tenantId: crypto.randomUUID(),
      department: 'support',
      role: 'member',
      name: 'S',
    };
    await expect(draftFromWords(runtime(), staff, 'RSI no ETH 500 USDT')).rejects.toThrow('serves traders only');
  });
});
