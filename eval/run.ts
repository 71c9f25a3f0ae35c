// `npm run eval`: the offline router's accuracy on the evaluation set, and, when Ollama
// answers at OLLAMA_HOST with OLLAMA_MODEL, the model's tool choice, grounded answers and
// latency per agent, on an in-memory copy of the demo company. Exit 1 when the router falls
// under 90 %. EVAL_LIMIT=N runs the model on the first N messages only.
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { ModelGateway, type AgentName } from '../agents/index.ts';
import { BillingService } from '../billing/index.ts';
import { loadConfig } from '../config/index.ts';
import { openDatabase, runMigrations } from '../db/index.ts';
import { seedDemoCompany } from '../demo/index.ts';
import { createMastra } from '../mastra.config.ts';
import { createLogger } from '../observability/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { departmentHeads } from '../tools/index.ts';
import { loadEvalMessages } from './messages.ts';
import { evaluateModel, summarizeModel } from './model.ts';
import { evaluateOffline, formatEvaluation } from './offline.ts';

const ROUTER_TARGET = 0.9;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

const messages = await loadEvalMessages();
const offline = evaluateOffline(messages);
console.log(formatEvaluation(offline));

const config = loadConfig();
const gateway = new ModelGateway(config.ollama);
const status = await gateway.status({ fresh: true, timeoutMs: 3_000 });
if (status.state !== 'ready') {
  console.log(`\nModel evaluation skipped: ${status.message}.`);
} else {
  const limit = Number(process.env['EVAL_LIMIT'] ?? messages.length);
  const chosen = messages.slice(0, limit);
  console.log(`\nModel evaluation: ${chosen.length} messages on ${config.ollama.model} at ${config.ollama.host} (demo company, in memory)…`);
  const handle = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(handle);
  await seedDemoCompany(handle.db, { secretBox: createSecretBox(crypto.randomBytes(32)) });
  const quiet = createLogger({ log: { level: 'silent', format: 'json' } }, { destination: new Writable({ write: (_c, _e, done) => done() }) });
  const runtime = { mastra: createMastra({ db: handle.db, gateway, logger: quiet }), gateway, logger: quiet };
  // Each message is asked by the head of the agent's department (the CEO for the ceo agent).
  const heads = await departmentHeads(handle.db);
  const billing = new BillingService(handle.db, undefined);
  const results = await evaluateModel(runtime, chosen, (agent: AgentName) => ({ db: handle.db, actor: heads.get(agent)!, billing, now: () => new Date() }), (r, i) => {
    process.stderr.write(`${String(i + 1).padStart(3)}/${chosen.length} ${r.id.padEnd(18)} ${r.toolCorrect ? 'ok ' : 'MISS'} ${r.expectedTool} ← ${r.calledTool ?? '(none)'}${r.mode === 'offline' ? ' [offline]' : ''} ${r.elapsedMs.toFixed(0)} ms\n`);
  });
  const summary = summarizeModel(results);
  console.log('\n| agent | cases | tool choice | grounded answers | offline | p50 ms | p95 ms | max model calls |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of [...summary.perAgent, summary.overall]) {
    console.log(`| ${row.agent} | ${row.cases} | ${pct(row.toolAccuracy)} | ${pct(row.groundedRate)} | ${row.offline} | ${row.p50Ms.toFixed(0)} | ${row.p95Ms.toFixed(0)} | ${row.maxModelCalls} |`);
  }
  await handle.close();
}

if (offline.overall.accuracy < ROUTER_TARGET) {
  console.error(`\nOffline router accuracy ${pct(offline.overall.accuracy)} is under the ${pct(ROUTER_TARGET)} target.`);
  process.exitCode = 1;
}
