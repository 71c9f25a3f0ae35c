import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { AGENT_NAMES, CHARS_PER_TOKEN, ModelGateway, promptFootprint, runTurn, settleTurns, type AgentName } from '../agents/index.ts';
import { BillingService } from '../billing/index.ts';
import { openDatabase, PostgresWorkflowsStorage, runMigrations, type Database } from '../db/index.ts';
import { seedDemoCompany } from '../demo/index.ts';
import { HELDOUT_MESSAGES_FILE, loadEvalMessages } from '../eval/messages.ts';
import { evaluateOffline } from '../eval/offline.ts';
import { createMastra } from '../mastra.config.ts';
import { createLogger } from '../observability/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import { MastraCompositeStore } from '@mastra/core/storage';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';
import { lastMessage, startFakeOllama } from '../test/support/fake-ollama.ts';
import { perfectModel } from '../test/support/perfect-model.ts';
import { departmentHeads } from '../tools/index.ts';
import { percentile } from '../eval/stats.ts';

/**
 * Agent turns on the embedded database and the demo company, against the scripted Ollama
 * server (instant answers), so what is timed is everything but the model: Mastra, memory,
 * routing, tools, audit, grounding. Model time is measured inside the model calls and
 * subtracted.
 */
export async function agentTurns(out: (line?: string) => void): Promise<void> {
  out(
    '## Agent turns (targets: overhead excluding the model p95 < 20 ms; ≤ 2 model calls for a department question; instructions + tool schemas < 1,500 tokens per agent; offline router ≥ 90 %)',
  );
  out();
  const messages = await loadEvalMessages();
  const handle = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(handle);
  await seedDemoCompany(handle.db, { secretBox: createSecretBox(crypto.randomBytes(32)) });
  const fake = await startFakeOllama(perfectModel(messages));
  const quiet = createLogger(
    { log: { level: 'silent', format: 'json' } },
    { destination: new Writable({ write: (_c, _e, done) => done() }) },
  );
  // The production default: structured tool choice (config AGENT_TOOL_MODE).
  const gateway = new ModelGateway({ host: fake.url, model: 'qwen3:0.6b', agentModels: {}, timeoutMs: 10_000, toolMode: 'structured' });
  const runtime = { mastra: createMastra({ db: handle.db, gateway, logger: quiet }), gateway, logger: quiet };
  const heads = await departmentHeads(handle.db);
  const billing = new BillingService(handle.db, undefined);
  const ctxFor = (agent: AgentName) => ({ db: handle.db, actor: heads.get(agent)!, billing, now: () => new Date() });

  // Warm-up: one pass over the set (JIT, prepared plans, memory threads exist).
  // Each turn's conversation write (made once the answer is handed back) lands before the next turn starts, outside the timing.
  const turn = async (m: (typeof messages)[number], offline = false) => {
    const result = await runTurn(runtime, { agent: m.agent, message: m.message, ctx: ctxFor(m.agent), channel: 'bench', offline });
    await settleTurns(runtime);
    return result;
  };
  for (const m of messages) await turn(m);
  const rows = new Map<string, { overhead: number[]; offline: number[]; calls: number[] }>();
  for (let round = 0; round < 3; round++) {
    for (const m of messages) {
      const online = await turn(m);
      if (online.mode !== 'ollama') throw new Error(`${m.id} answered offline`);
      const offline = await turn(m, true);
      const row = rows.get(m.agent) ?? { overhead: [], offline: [], calls: [] };
      row.overhead.push(online.elapsedMs - online.modelMs);
      row.offline.push(offline.elapsedMs);
      row.calls.push(online.modelCalls);
      rows.set(m.agent, row);
    }
  }
  await fake.close();
  const floor = await mastraLoopAlone(handle.db);
  await handle.close();

  out(
    `Embedded PGlite in memory, demo company (320 traders), the ${messages.length} messages of eval/messages.jsonl asked by each department's head, 3 timed rounds after one warm-up round, against the scripted Ollama server (a "model" that picks the labelled tool and quotes the result, so the CEO's department questions go through a delegation), with structured tool choice (the default; the server plays Ollama's grammar). Overhead = turn time (until the answer is handed back) − time inside model calls: Mastra, recalling the conversation, tool layer with audit, grounding, the answer gate and the action report; the conversation is written just after the answer is handed back (a door sends the reply first), and that write finishes before the next turn starts, outside the timing. Offline = the same message answered by the router and templates. Tokens are estimated at ${CHARS_PER_TOKEN} characters per token (conservative for Qwen's tokenizer).`,
  );
  out();
  out(
    '| agent | turns | overhead p50 ms | overhead p95 ms | model calls (max) | offline p95 ms | prompt + tool schemas, native (tokens, est.) | prompt + tool list, structured (tokens, est.) | tools |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const all: number[] = [];
  for (const agent of AGENT_NAMES) {
    const row = rows.get(agent);
    if (!row) continue;
    const overhead = [...row.overhead].sort((a, b) => a - b);
    const offline = [...row.offline].sort((a, b) => a - b);
    all.push(...overhead);
    const footprint = promptFootprint(agent);
    out(
      `| ${agent} | ${overhead.length} | ${percentile(overhead, 50).toFixed(1)} | ${percentile(overhead, 95).toFixed(1)} | ${Math.max(...row.calls)} | ${percentile(offline, 95).toFixed(1)} | ${footprint.estimatedTokens} | ${footprint.structuredTokens} | ${footprint.tools.length} |`,
    );
  }
  all.sort((a, b) => a - b);
  out(`| all | ${all.length} | ${percentile(all, 50).toFixed(1)} | ${percentile(all, 95).toFixed(1)} | | | | | |`);
  out(
    `| Mastra's agent loop alone | ${floor.length} | ${percentile(floor, 50).toFixed(1)} | ${percentile(floor, 95).toFixed(1)} | 2 | | | | 1 |`,
  );
  out();
  out(
    "The last row is the floor under every turn: a bare Mastra agent with one tool that does nothing, no memory, no database queries, the same metered model and scripted server (tool call, then answer), timed the same way in the same process. What the product adds to it (memory, the tool layer with its audit row, the tools' queries, grounding, delegation for the CEO) is the difference.",
  );
  out();
  const router = evaluateOffline(messages);
  const later = await loadEvalMessages(HELDOUT_MESSAGES_FILE);
  const heldout = evaluateOffline(later.filter((m) => m.heldout));
  const development = evaluateOffline(later.filter((m) => !m.heldout));
  const share = (a: { accuracy: number; correct: number; total: number }) => `${(a.accuracy * 100).toFixed(1)} % (${a.correct}/${a.total})`;
  out(
    `Offline router accuracy: eval/messages.jsonl (written with the router) ${share(router.overall)}; eval/heldout.jsonl development half ${share(development.overall)}; held-out half (never looked at for fixes) ${share(heldout.overall)}; reads routed to writes ${router.readsRoutedToWrites.length + development.readsRoutedToWrites.length + heldout.readsRoutedToWrites.length}.`,
  );
  out();
}

/**
 * Mastra's own cost per turn: a bare agent with a no-op tool answering through the same
 * metered model and a scripted server (a tool call, then the answer), overhead timed as above.
 */
async function mastraLoopAlone(db: Database, turns = 600): Promise<number[]> {
  const fake = await startFakeOllama((request) =>
    lastMessage(request).role === 'user' ? { toolCalls: [{ name: 'noop', arguments: {} }] } : { content: 'Feito: 42.' },
  );
  const gateway = new ModelGateway({ host: fake.url, model: 'qwen3:0.6b', agentModels: {}, timeoutMs: 10_000 });
  const meter = { calls: 0, ms: 0 };
  const agent = new Agent({
    id: 'bare',
    name: 'bare',
    instructions: 'Answer with the tool result.',
    model: () => gateway.chatModel('support', meter),
    tools: {
      noop: createTool({ id: 'noop', description: 'Does nothing.', inputSchema: z.object({}), execute: async () => ({ value: 42 }) }),
    },
  });
  // The same workflows storage as the product's: the loop's own snapshots stay in memory.
  new Mastra({
    agents: { bare: agent },
    storage: new MastraCompositeStore({ id: 'bench-bare', domains: { workflows: new PostgresWorkflowsStorage(db) } }),
  });
  const overhead: number[] = [];
  for (let i = 0; i < turns + 100; i++) {
    meter.ms = 0;
    const started = performance.now();
    await agent.generate([{ role: 'user', content: 'ping' }], {
      maxSteps: 4,
      modelSettings: { temperature: 0, maxRetries: 0 },
      providerOptions: { ollama: { think: false } },
    });
    if (i >= 100) overhead.push(performance.now() - started - meter.ms);
  }
  await fake.close();
  return overhead.sort((a, b) => a - b);
}
