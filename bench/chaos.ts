import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { ModelGateway, runTurn, settleTurns, type AgentName, type ToolMode } from '../agents/index.ts';
import { BillingService } from '../billing/index.ts';
import { openDatabase, runMigrations } from '../db/index.ts';
import { seedDemoCompany } from '../demo/index.ts';
import { loadEvalMessages } from '../eval/messages.ts';
import { scoreTurn, summarize } from '../eval/model.ts';
import { createMastra } from '../mastra.config.ts';
import { createLogger } from '../observability/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { chaosModel } from '../test/support/chaos-model.ts';
import { startFakeOllama } from '../test/support/fake-ollama.ts';
import { departmentHeads } from '../tools/index.ts';
import { percentile } from '../eval/stats.ts';

const TURNS = 1_000;

/**
 * 1,000 turns against the seeded chaos model (test/support/chaos-model.ts) in each tool mode,
 * through the production path: what the answer gate replaced and why, what the code reported
 * about actions, and the turn overhead with the gate.
 */
export async function chaosTurns(out: (line?: string) => void): Promise<void> {
  out(`## Chaos model (${TURNS.toLocaleString('en-US')} turns per tool mode: no failing answer delivered, every action reported)`);
  out();
  const messages = await loadEvalMessages();
  const handle = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(handle);
  const masterKey = crypto.randomBytes(32);
  await seedDemoCompany(handle.db, { secretBox: createSecretBox(masterKey) });
  const secrets = ['sk_live_51BenchChaosKeyAbCdEf0123', 'whsec_benchChaosSecret0123456', masterKey.toString('hex')];
  const quiet = createLogger(
    { log: { level: 'silent', format: 'json' } },
    { destination: new Writable({ write: (_c, _e, done) => done() }) },
  );
  const heads = await departmentHeads(handle.db);
  const billing = new BillingService(handle.db, undefined);

  out(
    `Embedded PGlite in memory, demo company; the ${messages.length} messages of eval/messages.jsonl cycled to ${TURNS.toLocaleString('en-US')} turns, each asked by the department's head, against the chaos model (seed 20261201, 0.4 % of calls stall past the ${600} ms model timeout) on the scripted Ollama server. "Overhead" is turn time minus time inside model calls, over the turns the model answered (stalled turns wait for the timeout and are answered offline; they are counted under "offline"). One run per mode, this table is that run.`,
  );
  out();
  out(
    '| tool mode | turns | model answers kept | replaced, by reason | gate failures delivered | actions reported (done / awaiting approval / refused / not done) | asked actions left unreported | unknown tool names audited | repeated calls run once | unhandled errors | overhead p50 ms | overhead p95 ms (samples) |',
  );
  out('|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const toolMode of ['native', 'structured'] as const satisfies readonly ToolMode[]) {
    const chaos = chaosModel({ seed: 20261201, secrets, stallRate: 0.004 });
    const fake = await startFakeOllama(chaos.script);
    const gateway = new ModelGateway({ host: fake.url, model: 'qwen3:0.6b', agentModels: {}, timeoutMs: 600, toolMode });
    const runtime = { mastra: createMastra({ db: handle.db, gateway, logger: quiet, secrets }), gateway, logger: quiet, secrets };
    const results = [];
    const actions = { done: 0, awaiting_approval: 0, refused: 0, not_done: 0 };
    const overhead: number[] = [];
    let errors = 0;
    let unknownTools = 0;
    for (let i = 0; i < TURNS; i++) {
      const m = messages[i % messages.length]!;
      try {
        const turn = await runTurn(runtime, {
          agent: m.agent,
          message: m.message,
          ctx: { db: handle.db, actor: heads.get(m.agent as AgentName)!, billing, now: () => new Date() },
          channel: `bench-chaos:${toolMode}:${i}`,
        });
        results.push(scoreTurn(m, turn, secrets));
        for (const action of turn.actions) actions[action.status] += 1;
        unknownTools += turn.toolCalls.filter(
          (c) => c.by === 'model' && c.ok === false && !turn.outcomes.some((o) => o.tool === c.tool.split('/').at(-1)),
        ).length;
        if (turn.mode === 'ollama') overhead.push(turn.elapsedMs - turn.modelMs);
      } catch {
        errors += 1;
      }
    }
    await settleTurns(runtime);
    await fake.close();
    const summary = summarize(toolMode, results);
    const replaced = Object.entries(summary.replaced)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    const unreported = results.filter((r) => r.actionAsked && !r.actionReported).length;
    overhead.sort((a, b) => a - b);
    out(
      `| ${toolMode} | ${results.length} | ${summary.answersKept} | ${replaced} | ${summary.gateFailuresDelivered} | ${actions.done} / ${actions.awaiting_approval} / ${actions.refused} / ${actions.not_done} | ${unreported} | ${unknownTools} | ${summary.repeatedCalls} | ${errors} | ${percentile(overhead, 50).toFixed(1)} | ${percentile(overhead, 95).toFixed(1)} (${overhead.length}) |`,
    );
  }
  await handle.close();
  out();
  out(
    '"Asked actions left unreported" counts messages whose labelled tool is an action and whose answer carried no code-written action line. Structured mode cannot produce an unknown tool name (the scripted server plays the grammar: a name outside the schema cannot be generated). The chaos model\'s tool choice itself is measured by `npm run eval -- --scripted chaos`.',
  );
  out();
}
