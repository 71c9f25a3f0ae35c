import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANSWER_RULES,
  detectLocale,
  gateAnswer,
  ModelGateway,
  requestedAction,
  runTurn,
  settleTurns,
  type AgentName,
  type AgentRuntime,
  type TurnResult,
} from '../../agents/index.ts';
import { verifyAuditChain } from '../../audit/index.ts';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { queryRows } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { loadEvalMessages } from '../../eval/messages.ts';
import { modelPart } from '../../eval/model.ts';
import { createMastra } from '../../mastra.config.ts';
import { createLogger, createMetrics, type Metrics } from '../../observability/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { departmentHeads, TOOLS, type Actor } from '../../tools/index.ts';
import { chaosModel, type ChaosModel } from '../support/chaos-model.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.ts';

// 1,000 turns against a seeded bad small model (test/support/chaos-model.ts) across the ten
// agents and both languages, through the real path: Mastra, the Ollama protocol, the tool
// layer, grounding, the answer gate, the action reports, the audit log.

const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);
const now = new Date('2026-11-01T12:00:00Z');
const masterKey = crypto.randomBytes(32);
const SECRETS = [
  'sk_live_51ChaosKeyAbCdEf0123456789',
  'whsec_chaosSecret0123456789abc',
  '123456789:AAH-chaosTelegramToken_abcdefghijk',
  masterKey.toString('hex'),
];

describe.each([
  ['native', 1_000],
  ['structured', 500],
] as const)('chaos model, %s tool choice', (toolMode, TURNS) => {
  let test: TestDatabase;
  let fake: FakeOllama;
  let chaos: ChaosModel;
  let runtime: AgentRuntime;
  let metrics: Metrics;
  let heads: Map<AgentName, Actor>;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemoCompany(test.handle.db, { secretBox: createSecretBox(masterKey), asOf: new Date('2026-11-01T00:00:00Z'), traders: 40 });
    chaos = chaosModel({ seed: 20261201, secrets: SECRETS, stallRate: 0.004 });
    fake = await startFakeOllama(chaos.script);
    metrics = createMetrics({ defaultMetrics: false });
    const gateway = new ModelGateway({ host: fake.url, model: 'qwen3:0.6b', agentModels: {}, timeoutMs: 600, toolMode });
    runtime = {
      mastra: createMastra({ db: test.handle.db, gateway, logger: silent, secrets: SECRETS }),
      gateway,
      logger: silent,
      metrics,
      secrets: SECRETS,
    };
    heads = (await departmentHeads(test.handle.db)) as Map<AgentName, Actor>;
  }, 120_000);
  afterAll(async () => {
    if (runtime) await settleTurns(runtime);
    await fake?.close();
    await test?.dispose();
  });

  /**
   * Rules every answer meets, whoever wrote it. Templates quote data as it is (setting values as
   * JSON, English tool messages), so markup, language, length and repetition are checked on
   * the model's text only.
   */
  const RULES_FOR_ALL = new Set(['unprintable', 'secret', 'unbacked_claim']);

  it(`${TURNS} seeded chaos turns: no failing answer delivered, no effect without an outcome, no unhandled error, every rejection audited`, async () => {
    const messages = await loadEvalMessages();
    const billing = new BillingService(test.handle.db, undefined);
    const [{ lastId }] = (await queryRows<{ lastId: number }>(
      test.handle.db,
      sql`select coalesce(max(id), 0)::int as "lastId" from audit_log`,
    )) as [{ lastId: number }];
    const approvalsBefore = await test.handle.db.$count(db.approvals);

    const turns: { message: string; agent: AgentName; turn: TurnResult }[] = [];
    const errors: string[] = [];
    for (let i = 0; i < TURNS; i++) {
      const m = messages[i % messages.length]!;
      try {
        const turn = await runTurn(runtime, {
          agent: m.agent,
          message: m.message,
          ctx: { db: test.handle.db, actor: heads.get(m.agent)!, billing, now: () => now },
          channel: `chaos:${i}`,
        });
        turns.push({ message: m.message, agent: m.agent, turn });
      } catch (error) {
        errors.push(`${m.id}: ${(error as Error).stack ?? String(error)}`);
      }
    }
    await settleTurns(runtime);
    expect(errors).toEqual([]);

    // 0 answers that fail the gate reach the person.
    const delivered: string[] = [];
    for (const { message, turn } of turns) {
      const body = modelPart(turn);
      if (body === '' && turn.answerFrom === 'template') continue; // only the code's action lines
      const verdict =
        turn.answerFrom === 'model'
          ? gateAnswer({ answer: body, locale: detectLocale(message), outcomes: turn.outcomes, secrets: SECRETS })
          : ANSWER_RULES.filter((rule) => RULES_FOR_ALL.has(rule.reason))
              .map((rule) => ({
                reason: rule.reason,
                detail: rule.check({ answer: body, locale: detectLocale(message), outcomes: turn.outcomes, secrets: SECRETS }),
              }))
              .find((r) => r.detail !== undefined);
      if (verdict && !('ok' in verdict && verdict.ok))
        delivered.push(`${turn.answerFrom} ${JSON.stringify(verdict)}: ${JSON.stringify(turn.answer.slice(0, 160))}`);
      for (const secret of SECRETS) if (turn.answer.includes(secret)) delivered.push(`secret in: ${turn.answer.slice(0, 80)}`);
    }
    expect(delivered).toEqual([]);

    // Every action asked for gets a code-written line; no claimed effect lacks an outcome (the gate above).
    const unreported = turns.filter(({ agent, message, turn }) => requestedAction(agent, message) && turn.actions.length === 0);
    expect(unreported.map((t) => t.message)).toEqual([]);

    // 0 effects without a tool outcome: every action the log recorded is an outcome some turn reported.
    const actionTools = [...TOOLS.values()].filter((t) => t.effect !== 'read').map((t) => t.name);
    const effectsLogged = await queryRows<{ n: number }>(
      test.handle.db,
      sql`select count(*)::int as n from audit_log where id > ${lastId} and action = 'tool.call' and outcome in ('ok', 'pending_approval') and tool in ${sql.raw(`(${actionTools.map((t) => `'${t}'`).join(',')})`)}`,
    );
    const effectsReported = turns.flatMap(({ turn }) => turn.outcomes).filter((o) => o.ok && actionTools.includes(o.tool)).length;
    expect(effectsLogged[0]!.n).toBe(effectsReported);
    const approvalsReported = turns.flatMap(({ turn }) => turn.outcomes).filter((o) => o.ok && 'pendingApproval' in o).length;
    expect((await test.handle.db.$count(db.approvals)) - approvalsBefore).toBe(approvalsReported);

    // Every rejection audited (department answers to the CEO included): audit rows = the metric's count.
    const [rejections] = await queryRows<{ n: number }>(
      test.handle.db,
      sql`select count(*)::int as n from audit_log where id > ${lastId} and action in ('agent.rejected_answer', 'agent.ungrounded_answer')`,
    );
    const counted = (await metrics.agentRejectedAnswers.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(rejections!.n).toBe(counted);
    expect(rejections!.n).toBeGreaterThanOrEqual(turns.filter(({ turn }) => turn.rejectedBecause).length);

    // Junk tool names audited, escaped and bounded (structured: none can be generated); arguments bounded; the chain intact.
    const unknown = await queryRows<{ tool: string }>(
      test.handle.db,
      sql`select details->>'tool' as tool from audit_log where id > ${lastId} and action = 'agent.unknown_tool'`,
    );
    if (toolMode === 'native') expect(unknown.length).toBeGreaterThan(0);
    else expect(unknown).toEqual([]);
    for (const row of unknown) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the stored tool name
      expect(row.tool).not.toMatch(/[\u0000-\u001f]/);
      expect(row.tool.length).toBeLessThanOrEqual(100);
    }
    const [{ longest }] = (await queryRows<{ longest: number }>(
      test.handle.db,
      sql`select coalesce(max(length(args::text)), 0)::int as longest from audit_log where id > ${lastId}`,
    )) as [{ longest: number }];
    expect(longest).toBeLessThan(5_000);
    expect(await verifyAuditChain(test.handle.db)).toMatchObject({ ok: true });

    // The run covered what it is meant to: every behaviour drawn, both modes, kept and replaced answers.
    for (const [behaviour, n] of Object.entries(chaos.counts)) expect(n, behaviour).toBeGreaterThan(0);
    const replaced = new Map<string, number>();
    for (const { turn } of turns)
      if (turn.rejectedBecause) replaced.set(turn.rejectedBecause, (replaced.get(turn.rejectedBecause) ?? 0) + 1);
    for (const reason of ['unprintable', 'wrong_language', 'secret', 'unbacked_claim', 'ungrounded'])
      expect(replaced.get(reason) ?? 0, reason).toBeGreaterThan(0);
    if (toolMode === 'native') for (const reason of ['markup', 'empty']) expect(replaced.get(reason) ?? 0, reason).toBeGreaterThan(0);
    expect(turns.some(({ turn }) => turn.answerFrom === 'model')).toBe(true);
    expect(turns.some(({ turn }) => turn.mode === 'offline')).toBe(true);
    expect(turns.reduce((sum, { turn }) => sum + turn.repeatedCalls, 0)).toBeGreaterThan(0);
  }, 600_000);
});
