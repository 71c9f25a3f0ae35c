import crypto from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { ModelGateway } from '../agents/index.ts';
import { BillingService } from '../billing/index.ts';
import { listStaff, openDatabase, queryRows, runMigrations, users } from '../db/index.ts';
import { seedDemoCompany } from '../demo/index.ts';
import { createMastra } from '../mastra.config.ts';
import { createLogger } from '../observability/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { issueLinkCode, redeemLinkCode } from '../identity/index.ts';
import { TelegramDoor, type UpdateTiming } from '../telegram/index.ts';
import { createTelegramDelivery } from '../telegram/outbox/index.ts';
import { lastMessage, startFakeOllama, toolResults, type OllamaChatRequest, type ScriptedReply } from '../test/support/fake-ollama.ts';
import { percentile } from '../eval/stats.ts';

const UPDATES = Number(process.env.BENCH_TELEGRAM_UPDATES ?? 600);
/** Updates per second arriving at the bot, spread over the chats (each chat well under Telegram's 1 message/s). */
const RATE = Number(process.env.BENCH_TELEGRAM_RATE ?? 12);
const TRADERS = 30;
const STAFF = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The scripted model: a department question calls its tool, the answer quotes the result. */
function instantModel(request: OllamaChatRequest): ScriptedReply {
  const last = lastMessage(request);
  const tools = request.tools?.map((t) => t.function.name) ?? [];
  if (last.role === 'user') {
    const tool = [
      'company_kpis',
      'revenue_summary',
      'campaign_performance',
      'sales_funnel',
      'open_tickets',
      'verify_audit_chain',
      'list_plans',
      'get_config',
      'recent_security_events',
      'search_documents',
    ].find((t) => tools.includes(t));
    if (!tool) return { content: 'Olá! Como posso ajudar?' };
    const args = tool === 'get_config' ? { key: 'trading.kill_switch' } : tool === 'search_documents' ? { query: 'reembolso' } : {};
    return { toolCalls: [{ name: tool, arguments: args }] };
  }
  const figures =
    JSON.stringify(toolResults(request))
      .match(/(?<=":)\d+(\.\d+)?/g)
      ?.slice(0, 2) ?? [];
  return { content: figures.length > 0 ? `Segundo a ferramenta: ${figures.join(' e ')}.` : 'Pronto.' };
}

/**
 * Time from an update's arrival at the bot (handed over by the poller) to the moment its reply
 * was accepted by Telegram, minus the time spent inside model calls: the door, identity,
 * tools with their audit, agent turns (Mastra, memory, grounding), rendering and the send
 * through the outbox's rate-limited sender. Against the Bot API emulator on its own thread,
 * the demo company on the embedded database, the scripted Ollama server.
 */
export async function telegramLatency(out: (line?: string) => void): Promise<void> {
  out('## Telegram: update received → reply sent (target: p95 < 50 ms excluding model time)');
  out();
  const quiet = createLogger(
    { log: { level: 'silent', format: 'json' } },
    { destination: new Writable({ write: (_c, _e, done) => done() }) },
  );
  const handle = await openDatabase({ dataDir: '', inMemory: true });
  await runMigrations(handle);
  const db = handle.db;
  await seedDemoCompany(db, { secretBox: createSecretBox(crypto.randomBytes(32)) });
  const worker = new Worker(new URL('./telegram-emulator-worker.ts', import.meta.url), { workerData: { limits: undefined } });
  const [ready] = (await once(worker, 'message')) as [{ apiRoot: string; token: string }];
  const fake = await startFakeOllama(instantModel);
  const gateway = new ModelGateway({ host: fake.url, model: 'qwen3:0.6b', agentModels: {}, timeoutMs: 10_000 });
  const agents = { mastra: createMastra({ db, gateway, logger: quiet }), gateway, logger: quiet };
  // Telegram's real limits: 30 messages/s overall, 1/s per chat.
  const delivery = createTelegramDelivery(
    { botToken: ready.token, apiRoot: ready.apiRoot, webhookUrl: undefined, webhookSecret: undefined, ratePerS: 30, chatRatePerS: 1 },
    db,
    { logger: quiet },
  )!;
  delivery.outbox.start();
  const timings: UpdateTiming[] = [];
  const door = new TelegramDoor({
    botToken: ready.token,
    apiRoot: ready.apiRoot,
    db,
    billing: new BillingService(db, undefined),
    agents,
    logger: quiet,
    delivery,
    approvalsEveryMs: 0,
    poll: { idleMs: 5 },
    onUpdateHandled: (t) => timings.push(t),
  });
  await door.start();

  // People: traders with bots, staff of every department, and strangers.
  const traderRows = await queryRows<{ email: string }>(
    db,
    sql`select u.email from users u join tenants t on t.id = u.tenant_id where t.kind = 'trader' and exists (select 1 from positions p where p.tenant_id = u.tenant_id) order by u.email limit ${TRADERS}`,
  );
  const staffRows = (await listStaff(db)).filter((s) => s.role !== 'ceo').slice(0, STAFF - 1);
  const ceo = (await listStaff(db)).find((s) => s.role === 'ceo')!;
  type Person = { chatId: number; kind: 'trader' | 'staff' | 'stranger'; sent: number };
  const people: Person[] = [];
  let nextId = 5_000_000;
  for (const [kind, email] of [
    ...traderRows.map((r) => ['trader', r.email] as const),
    ...[ceo, ...staffRows].map((s) => ['staff', s.email] as const),
  ]) {
    const chatId = nextId++;
    const { code } = await issueLinkCode(db, { email, kind });
    const linked = await redeemLinkCode(db, code, { userId: chatId, chatId });
    if (!linked.ok) throw new Error(`could not link ${email}`);
    people.push({ chatId, kind, sent: 0 });
  }
  for (let i = 0; i < 10; i++) people.push({ chatId: nextId++, kind: 'stranger', sent: 0 });
  await db.update(users).set({ locale: 'pt-BR' });

  const traderCommands = ['/status', '/profit', '/bots', '/daily', '/balance', '/plan', '/weekly', '/help'];
  const staffMessages = ['Como estão os números hoje?', '/ask finance qual o MRR?', '/help', 'Me dá um resumo, por favor'];
  const kindOf = (p: Person) =>
    p.kind === 'trader'
      ? traderCommands[p.sent % traderCommands.length]!
      : p.kind === 'staff'
        ? staffMessages[p.sent % staffMessages.length]!
        : 'oi';
  const send = async (person: Person, text: string) => {
    const command = text.startsWith('/');
    const body = {
      botToken: ready.token,
      date: Math.floor(Date.now() / 1000),
      from: { id: person.chatId, first_name: `P${person.chatId}`, username: `p${person.chatId}`, is_bot: false },
      chat: { id: person.chatId, first_name: `P${person.chatId}`, type: 'private' },
      text,
      ...(command
        ? { entities: [{ offset: 0, length: text.indexOf(' ') > 0 ? text.indexOf(' ') : text.length, type: 'bot_command' }] }
        : {}),
    };
    const response = await fetch(`${ready.apiRoot}/${command ? 'sendCommand' : 'sendMessage'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`emulator refused a client message: ${response.status}`);
  };

  // Warm-up: one message per person (JIT, prepared statements, memory threads).
  for (const person of people) await send(person, kindOf(person));
  while (timings.length < people.length) await sleep(20);
  await door.idle();
  timings.length = 0;
  for (const person of people) person.sent = 1;

  const started = performance.now();
  for (let i = 0; i < UPDATES; i++) {
    const person = people[i % people.length]!;
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    await send(person, kindOf(person));
    person.sent++;
  }
  const deadline = Date.now() + 60_000;
  while (timings.length < UPDATES && Date.now() < deadline) await sleep(20);
  const elapsedS = (performance.now() - started) / 1000;
  await door.stop();
  await delivery.outbox.stop();
  worker.postMessage({ kind: 'close' });
  await once(worker, 'message');
  await worker.terminate();
  await fake.close();
  await handle.close();

  const replied = timings.filter((t) => t.repliedAt !== undefined);
  const label = (t: UpdateTiming) => (t.kind === 'agent' ? 'free text → agent' : t.kind);
  const groups = new Map<string, number[]>();
  for (const t of replied) {
    const ms = t.repliedAt! - t.receivedAt - t.modelMs;
    groups.set(label(t), [...(groups.get(label(t)) ?? []), ms]);
    groups.set('all', [...(groups.get('all') ?? []), ms]);
  }
  const modelMs = replied
    .filter((t) => t.kind === 'agent')
    .map((t) => t.modelMs)
    .sort((a, b) => a - b);
  out(
    `Embedded PGlite in memory, demo company (320 traders); ${people.length - 10} linked people (${traderRows.length} traders, ${staffRows.length + 1} staff) and 10 strangers in private chats; ${UPDATES} updates sent at ${RATE}/s round-robin (each chat about every ${(people.length / RATE).toFixed(1)} s, under Telegram's 1 message/s per chat), after one warm-up message per person. The Bot API emulator runs on its own thread; replies go through the outbox's sender with Telegram's limits (30/s, 1/s per chat). Time = reply accepted by the emulator − update handed to the door by the poller − time inside model calls (scripted Ollama, median ${percentile(modelMs, 50).toFixed(1)} ms per agent turn). Updates that get no reply (a stranger's second message) are not counted. ${replied.length} of ${timings.length} updates replied, in ${elapsedS.toFixed(1)} s.`,
  );
  out();
  out('| update | replies | p50 ms | p95 ms | p99 ms | max ms |');
  out('|---|---:|---:|---:|---:|---:|');
  const order = ['all', 'free text → agent', ...[...groups.keys()].filter((k) => k !== 'all' && k !== 'free text → agent').sort()];
  for (const key of order) {
    const values = groups.get(key);
    if (!values) continue;
    const sorted = [...values].sort((a, b) => a - b);
    out(
      `| ${key} | ${sorted.length} | ${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 95).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} | ${sorted.at(-1)!.toFixed(1)} |`,
    );
  }
  out();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await telegramLatency((line = '') => console.log(line));
}
