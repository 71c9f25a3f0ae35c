// `npm run eval`: the offline router's accuracy on the evaluation set, and, when Ollama
// answers at OLLAMA_HOST with OLLAMA_MODEL, the model scored on its own choices (eval/model.ts)
// per agent and language, on an in-memory copy of the demo company. Exit 1 when the router
// falls under 90 %. EVAL_LIMIT=N runs the model on N messages spread evenly over agents and
// languages; `--json FILE` writes every case and summary to FILE.
import crypto from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
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
import { evaluateModel, formatModelSummary, sampleEvenly, summarizeModel } from './model.ts';
import { evaluateOffline, formatEvaluation } from './offline.ts';

const ROUTER_TARGET = 0.9;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

let options: { json?: string | undefined };
try {
  options = parseArgs({ options: { json: { type: 'string' } }, allowPositionals: false }).values;
} catch (error) {
  console.error(`eval: ${(error as Error).message} (usage: npm run eval [-- --json FILE])`);
  process.exit(2);
}
const limitText = process.env['EVAL_LIMIT'];
if (limitText !== undefined && !/^[1-9]\d*$/.test(limitText)) {
  console.error(`eval: EVAL_LIMIT=${JSON.stringify(limitText)} is not a positive whole number`);
  process.exit(2);
}

const messages = await loadEvalMessages();
const offline = evaluateOffline(messages);
console.log(formatEvaluation(offline));
const report: Record<string, unknown> = { offline };

const config = loadConfig();
const gateway = new ModelGateway(config.ollama);
const status = await gateway.status({ fresh: true, timeoutMs: 3_000 });
if (status.state !== 'ready') {
  console.log(`\nModel evaluation skipped: ${status.message}.`);
  report['model'] = { skipped: status.message };
} else {
  const chosen = sampleEvenly(messages, limitText === undefined ? messages.length : Number(limitText));
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
    const answer = r.answer === 'kept' ? 'kept' : `replaced: ${r.answer}`;
    process.stderr.write(`${String(i + 1).padStart(3)}/${chosen.length} ${r.id.padEnd(18)} ${r.toolCorrect ? 'ok ' : 'MISS'} ${r.expectedTool} ← ${r.modelTool ?? '(no call)'}${r.fallback ? ' [fallback]' : ''} ${answer} ${r.elapsedMs.toFixed(0)} ms\n`);
  });
  const summary = summarizeModel(results);
  console.log(`\n${formatModelSummary(summary)}`);
  report['model'] = { model: config.ollama.model, host: config.ollama.host, summary, cases: results };
  await handle.close();
}

if (options.json) {
  await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nWrote ${options.json}.`);
}
if (offline.overall.accuracy < ROUTER_TARGET) {
  console.error(`\nOffline router accuracy ${pct(offline.overall.accuracy)} is under the ${pct(ROUTER_TARGET)} target.`);
  process.exitCode = 1;
}
