import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ModelGateway, type AgentName } from '../agents/index.ts';
import { BillingService } from '../billing/index.ts';
import { seedDemoCompany } from '../demo/index.ts';
import { loadEvalMessages, type EvalMessage } from '../eval/messages.ts';
import { evaluateModel, summarizeModel } from '../eval/model.ts';
import { createMastra } from '../mastra.config.ts';
import { createLogger } from '../observability/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { actorForEmail, ceoEmail, type ToolContext } from '../tools/index.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.ts';
import { perfectModel } from './support/perfect-model.ts';

// The model half of `npm run eval`, against the scripted server: a model that always picks
// the labelled tool must score 100 % with every answer grounded, in at most 2 calls
// (4 when the CEO delegates).

let test: TestDatabase;
let fake: FakeOllama;
let messages: EvalMessage[];
let contextFor: (agent: AgentName) => ToolContext;
const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);

beforeAll(async () => {
  test = await createTestDatabase('pglite');
  await seedDemoCompany(test.handle.db, {
    secretBox: createSecretBox(crypto.randomBytes(32)),
    asOf: new Date('2026-11-01T00:00:00Z'),
    traders: 40,
  });
  // One message per agent and language keeps this test quick; the benchmark runs them all.
  const all = await loadEvalMessages();
  messages = [...new Map(all.map((m) => [`${m.agent}:${m.locale}`, m])).values()];
  fake = await startFakeOllama(perfectModel(messages));
  const ceo = (await actorForEmail(test.handle.db, (await ceoEmail(test.handle.db))!))!;
  const billing = new BillingService(test.handle.db, undefined);
  contextFor = () => ({ db: test.handle.db, actor: ceo, billing, now: () => new Date('2026-11-01T12:00:00Z') });
}, 120_000);
afterAll(async () => {
  await fake?.close();
  await test?.dispose();
});

it.each(['native', 'structured'] as const)(
  'scores a perfect model at 100 %, grounded, within the call budget (%s tool choice)',
  async (toolMode) => {
    const gateway = new ModelGateway({ host: fake.url, model: 'qwen3:0.6b', agentModels: {}, timeoutMs: 5_000, toolMode });
    const runtime = { mastra: createMastra({ db: test.handle.db, gateway, logger: silent }), gateway, logger: silent };
    const results = await evaluateModel(runtime, messages, contextFor);
    const misses = results.filter((r) => !r.toolCorrect || r.answer !== 'kept' || !r.argsValid || r.fallback);
    expect(misses, JSON.stringify(misses, null, 1)).toEqual([]);
    const { overall, perAgent, perLocale } = summarizeModel(results);
    expect(overall).toMatchObject({
      cases: messages.length,
      toolAccuracy: 1,
      validArgsRate: 1,
      answersKept: messages.length,
      replaced: {},
      fallbackRate: 0,
      repeatedCalls: 0,
    });
    // Every action asked for is reported by the code.
    if (overall.actionHonesty !== null) expect(overall.actionHonesty).toBe(1);
    expect(perAgent).toHaveLength(10);
    expect(perLocale.map((row) => row.group).sort()).toEqual(['en', 'pt-BR']);
    for (const row of perAgent) expect(row.maxModelCalls, row.group).toBeLessThanOrEqual(row.group === 'ceo' ? 4 : 2);
    // Structured: the tools travel as the reply's schema (one branch per tool), never as native tools.
    const last = fake.chats.at(-1)!;
    if (toolMode === 'structured') expect(last.tools).toBeUndefined();
    else expect(last.format).toBeUndefined();
  },
);
