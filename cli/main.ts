import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { exitCodeFor, isProductError } from '../errors/index.ts';
import { VERSION } from './version.ts';

/** The services check their configuration and Redis first, so a mistake is answered at once. */
function afterPreflight<T>(load: () => Promise<T>): () => Promise<T> {
  return async () => {
    await (await import('./preflight.ts')).preflight();
    return load();
  };
}

// Each command's module is imported when that command runs, so a command loads only what it
// uses (`--version`, `--help` and a mistyped option load nothing else).
const load = {
  agents: () => import('./commands/agents.ts'),
  approvals: () => import('./commands/approvals.ts'),
  assistant: () => import('./commands/assistant.ts'),
  ask: () => import('./commands/ask.ts'),
  backtest: () => import('./commands/backtest.ts'),
  backup: () => import('./commands/backup.ts'),
  billing: () => import('./commands/billing.ts'),
  bots: () => import('./commands/bots.ts'),
  data: () => import('./commands/data.ts'),
  keys: () => import('./commands/keys.ts'),
  marketData: () => import('./commands/market-data.ts'),
  privacy: () => import('./commands/privacy.ts'),
  report: () => import('./commands/report.ts'),
  secrets: () => import('./commands/secrets.ts'),
  start: afterPreflight(() => import('./commands/start.ts')),
  status: () => import('./commands/status.ts'),
  telegram: () => import('./commands/telegram.ts'),
  trading: () => import('./commands/trading.ts'),
  worker: afterPreflight(() => import('./commands/worker.ts')),
};

/** A commander action that imports its command's module first, then calls its `name` export. */
function lazy<M extends Record<K, (...args: never[]) => Promise<void>>, K extends keyof M>(
  module: () => Promise<M>,
  name: K,
): (...args: Parameters<M[K]>) => Promise<void> {
  return async (...args) => (await module())[name](...args);
}

function integerOption(name: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number, got "${value}"`);
    return Number(value);
  };
}

function dateOption(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(`expected a date such as 2026-11-01, got "${value}"`);
  }
  return date;
}

export function buildProgram(): Command {
  const program = new Command('botcriptofy')
    .description('Autonomous company runtime for crypto trading: agents, trading engine, billing, audit.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    // The parser's own errors (unknown option, missing argument, a bad value) are usage errors:
    // thrown to main(), which exits 2 as for every other usage error. Inherited by every command.
    .exitOverride();

  program
    .command('start')
    .description(
      'Run everything on this machine: database and migrations, demo data on a new embedded database, HTTP server (/health, /metrics)',
    )
    .action(lazy(load.start, 'startCommand'));

  program
    .command('worker')
    .description('Only workers (bot ticks, job queues, schedules): no HTTP, no Telegram; run several against the same PostgreSQL and Redis')
    .action(lazy(load.worker, 'workerCommand'));
  program
    .command('status')
    .description('Workers, queues and bots at a glance')
    .option('--json', 'print one JSON object')
    .action(lazy(load.status, 'statusCommand'));
  program
    .command('migrate')
    .description('Apply pending database migrations and print the migration status')
    .action(lazy(load.data, 'migrateCommand'));

  program
    .command('seed')
    .description('Fill an empty database with data')
    .option('--demo', 'the demo company: CEO, staff in every department, 320 traders with 12+ months of history')
    .option('--seed <number>', "random seed (same seed and date, same company; default: the demo's own)", integerOption('--seed'))
    .option('--as-of <date>', "the demo's today (default: today, UTC)", dateOption)
    .option('--traders <number>', 'number of traders (default: the full demo company)', integerOption('--traders'))
    .action(lazy(load.data, 'seedCommand'));

  const staff = program.command('staff').description('Company staff');
  staff
    .command('list')
    .description('List staff: name, email, department, role')
    .option('--json', 'print one JSON array instead of a table')
    .action(lazy(load.data, 'staffListCommand'));
  staff
    .command('invite')
    .description('A one-time Telegram code for a staff member: they send /start CODE to the bot (only its SHA-256 is stored)')
    .requiredOption('--email <email>', "the staff member's email")
    .option('--ttl-hours <hours>', 'hours the code stays valid (1–720)', integerOption('--ttl-hours'), 24)
    .option('--json', 'print one JSON object')
    .action(lazy(load.telegram, 'staffInviteCommand'));

  const telegram = program.command('telegram').description('The Telegram door: link codes, links, registered groups');
  telegram
    .command('link-code')
    .description("A one-time Telegram code for a trader's account: they send /start CODE to the bot")
    .requiredOption('--email <email>', "the trader's email")
    .option('--ttl-hours <hours>', 'hours the code stays valid (1–720)', integerOption('--ttl-hours'), 24)
    .option('--json', 'print one JSON object')
    .action(lazy(load.telegram, 'telegramLinkCodeCommand'));
  telegram
    .command('unlink')
    .description('Disconnect a person from Telegram (they need a new code to link again)')
    .requiredOption('--email <email>', 'whose link')
    .action(lazy(load.telegram, 'telegramUnlinkCommand'));
  telegram
    .command('register-group')
    .description("Let a group chat talk to a department's agent (other groups are ignored)")
    .argument('<chat-id>', 'the group chat id, e.g. -1001234567890')
    .argument('<department>', 'finance/financeiro, sales/vendas, support/sac, ...')
    .option('--title <title>', 'a name to remember the group by')
    .action(lazy(load.telegram, 'telegramRegisterGroupCommand'));
  telegram
    .command('unregister-group')
    .description('Stop answering in a group chat')
    .argument('<chat-id>')
    .action(lazy(load.telegram, 'telegramUnregisterGroupCommand'));

  program
    .command('secrets')
    .description('Secrets at rest')
    .command('rotate-master-key')
    .description('Seal every stored exchange key again under a new MASTER_KEY, in one transaction (stop every other process first)')
    .requiredOption(
      '--new-key-file <file>',
      "a file holding the new key (64 hex characters, e.g. from openssl rand -hex 32); '-' reads standard input",
    )
    .option('--force', 'rotate even though processes seem to be ticking bots')
    .option('--json', 'print one JSON object')
    .action(lazy(load.secrets, 'rotateMasterKeyCommand'));

  const audit = program.command('audit').description('The hash-chained audit log');
  audit
    .command('verify')
    .description('Check the whole audit chain; names the first altered or missing row (exit 1 if broken)')
    .option('--json', 'print the result as JSON')
    .action(lazy(load.data, 'auditVerifyCommand'));

  const backup = program
    .command('backup')
    .description('Backups of the whole database with a manifest (row counts, audit head, SHA-256): create, verify, restore');
  backup
    .command('create')
    .description(
      "Dump the database (embedded: PGlite's data folder; a server: pg_dump --format=custom, or a logical dump through SQL) and write its manifest beside it",
    )
    .option('--out <dir>', 'folder to write to (default: BACKUP_DIR, or DATA_DIR/backups)')
    .option(
      '--format <format>',
      "a server's dump: auto (pg_dump when one as new as the server is installed, else logical), pg-dump, logical (COPY through SQL); default BACKUP_FORMAT",
    )
    .option('--json', 'print one JSON object: dump, manifestPath, manifest')
    .action(lazy(load.backup, 'backupCreateCommand'));
  backup
    .command('verify')
    .description(
      "Check a backup's SHA-256, restore it into a scratch database and compare row counts and the audit chain with its manifest",
    )
    .argument('<file>', 'the dump file (or its .manifest.json)')
    .option('--json', 'print one JSON object')
    .action(lazy(load.backup, 'backupVerifyCommand'));
  backup
    .command('restore')
    .description('Restore a backup into an empty database (DATABASE_URL) or an empty data folder (DATA_DIR) only, then check it')
    .argument('<file>', 'the dump file (or its .manifest.json)')
    .option('--json', 'print one JSON object')
    .action(lazy(load.backup, 'backupRestoreCommand'));

  const privacy = program
    .command('privacy')
    .description("A person's data (LGPD): export a copy, erase on request, consents, the retention schedule");
  privacy
    .command('export')
    .description(
      'Everything held about one person as one JSON document, with a summary (the privacy_export tool); --approval fetches one an approval made for you',
    )
    .option('--email <email>', "the person's email")
    .option('--approval <id>', 'instead of --email: the export an approved agent request stored for you (privacy_export_document)')
    .option('--out <file>', 'write the document to this new file (mode 600)')
    .option('--as <email>', 'who asks: a Security or Documents staff member, the CEO or an admin (default: the CEO)')
    .option('--json', 'print the document (or, with --out, one JSON object: file, counts, summary)')
    .action(lazy(load.privacy, 'privacyExportCommand'));
  privacy
    .command('erase')
    .description(
      "Stop the person's bots, delete their exchange keys and pseudonymise their data; money records are kept (the privacy_erase tool)",
    )
    .option('--email <email>', "the person's email")
    .option('--yes', 'confirm without being asked (an erasure cannot be undone)')
    .option('--as <email>', 'who asks: a Security or Documents staff member, the CEO or an admin (default: the CEO)')
    .option('--json', 'print one JSON object: pseudonym, counts, auditId')
    .action(lazy(load.privacy, 'privacyEraseCommand'));
  privacy
    .command('consent')
    .description("A person's consents (terms, marketing) with time and version; --kind and --text-version record a new one")
    .option('--email <email>', "the person's email")
    .option('--kind <kind>', 'terms or marketing')
    .option('--text-version <version>', 'the version of the text agreed to, e.g. v3')
    .option('--withdraw', 'record a withdrawal instead of a consent')
    .option('--json', 'print one JSON object: current, history')
    .action(lazy(load.privacy, 'privacyConsentCommand'));
  privacy
    .command('retention')
    .description('Apply the retention schedule now (RETENTION_* days; it also runs daily in the workers); never touches money records')
    .option('--json', 'print one JSON object: schedule, removed')
    .action(lazy(load.privacy, 'privacyRetentionCommand'));

  const collect = (value: string, previous: string[]) => [...previous, value];
  program
    .command('backtest')
    .description(
      'Backtest a strategy on a candle file (CSV timestamp,open,high,low,close,volume or freqtrade JSON) or on cached candles (--pair)',
    )
    .requiredOption('--strategy <name>', 'rsi, rsi-reference, macd-cross, ema-cross or bollinger-reversion')
    .option('--data <file>', 'candle file')
    .option('--pair <pair>', 'cached candles of this pair instead of a file, e.g. BTC/USDT (see `data download`)')
    .option('--timeframe <tf>', 'with --pair: 1m, 5m, 1h, ...')
    .option('--from <date>', 'with --pair: first day (UTC; default: the first cached bar)')
    .option('--to <date>', 'with --pair: last day, included (UTC; default: the last cached bar)')
    .option('--exchange <id>', 'with --pair: the exchange the candles came from', 'binance')
    .option('--param <name=value>', 'strategy parameter, repeatable (e.g. --param rsiBuy=35)', collect, [])
    .option('--fee <fraction>', 'fee per side as a fraction of the notional', numberOption('--fee', 0, 0.1), 0.001)
    .option('--cash <amount>', 'starting cash in quote currency', numberOption('--cash', 1, 1e12), 10_000)
    .option('--slippage <fraction>', 'adverse price move on every fill', numberOption('--slippage', 0, 0.1), 0)
    .option('--json', 'print one JSON object')
    .option('--trade-list', 'include the trade list and equity curve (with --json)')
    .action(lazy(load.backtest, 'backtestCommand'));

  program
    .command('optimize')
    .description('Backtest every combination of a parameter grid on all cores and rank the results')
    .requiredOption('--strategy <name>', 'strategy to tune')
    .requiredOption('--data <file>', 'candle file')
    .requiredOption('--grid <spec>', "e.g. 'rsiBuy=30..45:5,rsiSell=55..70:5' (ranges from..to:step, lists a|b|c)")
    .option('--param <name=value>', 'parameter held fixed, repeatable', collect, [])
    .option(
      '--metric <name>',
      'ranking metric: totalReturnPct, finalEquity, sharpe, profitFactor, winRatePct, maxDrawdownPct',
      'totalReturnPct',
    )
    .option('--min-trades <n>', 'rank only combinations that closed at least n trades (default: 10)')
    .option('--workers <n>', 'worker threads (default: all cores)', integerOption('--workers'))
    .option('--top <n>', 'rows to show', integerOption('--top'), 10)
    .option('--fee <fraction>', 'fee per side', numberOption('--fee', 0, 0.1), 0.001)
    .option('--cash <amount>', 'starting cash', numberOption('--cash', 1, 1e12), 10_000)
    .option('--json', 'print one JSON object')
    .action(lazy(load.trading, 'optimizeCommand'));

  const marketData = program.command('data').description('The candle cache in the database: download from an exchange, import files, list');
  marketData
    .command('download')
    .description(
      'Fetch candles from an exchange into the cache (only what is missing: reruns resume, gaps are filled); a progress bar per pair on a terminal',
    )
    .option('--exchange <id>', 'ccxt exchange id', 'binance')
    .requiredOption('--pairs <list>', 'comma-separated, e.g. BTC/USDT,ETH/USDT')
    .requiredOption('--timeframes <list>', 'comma-separated, e.g. 5m,1h')
    .option('--days <n>', 'the last n days (default: 30)')
    .option('--since <date>', 'from this day (UTC) instead of --days, e.g. 2025-01-01')
    .option('--until <date>', 'up to this day, included (UTC; default: the last closed bar)')
    .addOption(new Option('--api-url <url>', "the exchange's REST base URL (a scripted exchange in tests)").hideHelp())
    .option('--json', 'print one JSON summary: exchange, from, interrupted, jobs, storedCandles, requests')
    .action(lazy(load.marketData, 'dataDownloadCommand'));
  marketData
    .command('list')
    .description('What the cache holds: exchange, pair, timeframe, first and last bar, candles, gaps')
    .option('--exchange <id>', 'only this exchange')
    .option('--pair <pair>', 'only this pair')
    .option('--timeframe <tf>', 'only this timeframe')
    .option('--json', 'print one JSON array')
    .action(lazy(load.marketData, 'dataListCommand'));
  marketData
    .command('import')
    .description('A candle file (CSV or freqtrade JSON) into the cache; bars already cached at the same times are replaced')
    .argument('<file>', 'candle file')
    .requiredOption('--pair <pair>', 'e.g. BTC/USDT')
    .requiredOption('--timeframe <tf>', "the file's bar length, e.g. 5m")
    .option('--exchange <id>', 'the exchange the candles came from', 'binance')
    .option('--json', 'print one JSON object')
    .action(lazy(load.marketData, 'dataImportCommand'));

  const billing = program.command('billing').description('Plans, Stripe and the finance figures');
  billing
    .command('sync')
    .description("Create or update the plans' products and prices on Stripe (idempotent, by lookup key)")
    .action(lazy(load.billing, 'billingSyncCommand'));
  billing
    .command('mrr')
    .description('MRR, ARR, movements, churn, ARPU, LTV, failed payments and refunds')
    .option('--json', 'print one JSON object')
    .option('--months <n>', 'months of history', integerOption('--months'), 12)
    .action(lazy(load.billing, 'billingMrrCommand'));
  billing
    .command('customer')
    .description("A trader's plan, subscriptions and invoices")
    .argument('<email>')
    .option('--json', 'print one JSON object')
    .action(lazy(load.billing, 'billingCustomerCommand'));

  program
    .command('ask')
    .description(
      'One turn with an agent, as a staff member (default: the CEO): the local model when Ollama answers, the offline router otherwise',
    )
    .argument('<agent>', 'ceo, finance/financeiro, sales/vendas, support/sac, audit/auditoria, ...')
    .argument('<message>', 'what to ask, in Portuguese or English')
    .option('--as <email>', 'who is asking')
    .option('--offline', 'answer without the model')
    .option(
      '--json',
      'print one JSON object: agent, answer, toolCalls, mode, grounded, answerFrom, rejectedBecause, actions, repeatedCalls, modelCalls, modelMs, elapsedMs',
    )
    .action(lazy(load.ask, 'askCommand'));

  program
    .command('report')
    .description(
      "The executive report now: each department's figures from the tools, the CEO agent's summary (a template's when the model is away)",
    )
    .option('--period <period>', 'daily or weekly', 'daily')
    .option('--send', 'also queue it for the CEO (Telegram)')
    .option(
      '--json',
      'print one JSON object: period, asOf, runId, text, figures, summaryFrom, fallback, grounded, modelCalls, modelMs, delivery, elapsedMs',
    )
    .option('--offline', 'write the summary without the model')
    .option('--lang <locale>', "pt-BR or en (default: the CEO's language)")
    .action(lazy(load.report, 'reportCommand'));

  program
    .command('agents')
    .description('The ten agents, their model and their tools')
    .option('--json', 'print one JSON array')
    .action(lazy(load.agents, 'agentsCommand'));
  const model = program.command('model').description('The local model on Ollama (OLLAMA_HOST, OLLAMA_MODEL)');
  model
    .command('status')
    .description('Whether Ollama answers and has the configured models')
    .option('--json', 'print one JSON object')
    .action(lazy(load.agents, 'modelStatusCommand'));
  model
    .command('pull')
    .description('Pull the configured models into Ollama, with progress')
    .option('--model <name>', 'pull this model instead')
    .action(lazy(load.agents, 'modelPullCommand'));

  const keys = program
    .command('keys')
    .description("A person's personal API keys for integrations (as POST/GET/DELETE /api/v1/keys; the key is printed once)");
  keys
    .command('create')
    .description('A new key for the person: read (GET routes only) or read_write')
    .option('--email <email>', "the key's owner (a trader or staff member)")
    .option('--name <name>', 'what the key is for')
    .option('--scope <scope>', 'read or read_write', 'read')
    .option('--expires-days <n>', 'the key stops working after this many days (default: never)')
    .option('--json', 'print one JSON object, the key included')
    .action(lazy(load.keys, 'keysCreateCommand'));
  keys
    .command('list')
    .description("The person's keys (never the keys themselves), revoked ones included")
    .option('--email <email>', "the keys' owner")
    .option('--json', 'print one JSON array')
    .action(lazy(load.keys, 'keysListCommand'));
  keys
    .command('revoke')
    .description("Revoke one of the person's keys (it stops working at once)")
    .argument('<id>', "the key's id (keys list)")
    .option('--email <email>', "the key's owner")
    .option('--json', 'print one JSON object')
    .action(lazy(load.keys, 'keysRevokeCommand'));

  const approvalsCommand = program
    .command('approvals')
    .description('Pending human decisions on risky actions (refunds, plan changes, freezes, live trading)');
  approvalsCommand
    .command('list')
    .description('Pending approvals (or, with --failed, approved ones whose action failed, with why)')
    .option('--failed', 'approved but failed: retry after fixing the cause')
    .option('--json', 'print one JSON array')
    .action(lazy(load.approvals, 'approvalsListCommand'));
  for (const [decision, description] of [
    ['approve', 'Approve and execute once (as the CEO unless --as names the department head)'],
    ['reject', 'Reject without executing'],
    ['retry', 'Run a failed approval again once its cause is fixed (a new decision, audited)'],
  ] as const) {
    approvalsCommand
      .command(decision)
      .description(description)
      .argument('<id>')
      .option('--as <email>', 'who decides')
      .option('--note <text>', 'a note kept with the decision')
      .action(async (id: string, options: { as?: string; note?: string }) =>
        (await load.approvals()).approvalsDecideCommand(decision, id, options),
      );
  }

  // The trader's assistant (issue 22): a bot from a description → draft → backtest → paper, as the trader.
  const assistant = program
    .command('assistant')
    .description("The trader's assistant, as the trader (--email): a bot from words → draft → a year's backtest → start on paper");
  const traderOption = ['--email <email>', 'the trader (the assistant acts as them, on their own account)'] as const;
  const draftOption = ['--draft <id>', "the draft (default: the trader's newest open one)"] as const;
  assistant
    .command('draft')
    .description('Draft a bot from a description, e.g. "quero um robô RSI no ETH de 1h, stop de 3 %, sem gastar mais que 500 USDT"')
    .argument('<words...>', 'the description, in Portuguese or English')
    .requiredOption(...traderOption)
    .option('--no-model', 'the rules only, even when a model answers')
    .option('--json', 'print the draft as JSON')
    .action(lazy(load.assistant, 'assistantDraftCommand'));
  assistant
    .command('answer')
    .description('Answer the draft\'s questions or change it with more words, e.g. "500 USDT" or "stop de 2 %"')
    .argument('<words...>', 'the answer')
    .requiredOption(...traderOption)
    .option(...draftOption)
    .option('--json', 'print the draft as JSON')
    .action(lazy(load.assistant, 'assistantAnswerCommand'));
  assistant
    .command('show')
    .description('Show a draft: its fields, questions, backtest and next steps')
    .requiredOption(...traderOption)
    .option(...draftOption)
    .option('--json', 'print the draft as JSON')
    .action(lazy(load.assistant, 'assistantShowCommand'));
  assistant
    .command('backtest')
    .description("Backtest the draft on the last year of candles, beside buy-and-hold (the plan's daily backtests apply)")
    .requiredOption(...traderOption)
    .option(...draftOption)
    .option('--json', 'print the draft as JSON')
    .action(lazy(load.assistant, 'assistantBacktestCommand'));
  assistant
    .command('start')
    .description('Start the backtested draft on PAPER (simulated money); needs --confirm, your own decision')
    .requiredOption(...traderOption)
    .option(...draftOption)
    .option('--confirm', 'I looked at the draft and its backtest and want it started on paper')
    .option('--json', 'print the draft as JSON')
    .action(lazy(load.assistant, 'assistantStartCommand'));
  assistant
    .command('discard')
    .description('Discard the draft')
    .requiredOption(...traderOption)
    .option(...draftOption)
    .option('--json', 'print the draft as JSON')
    .action(lazy(load.assistant, 'assistantDiscardCommand'));

  const bots = program
    .command('bots')
    .description(
      'Trading bots through the tool layer, as a staff member (default: the CEO) or a trader (--as): list, show, create, start, stop, force exits',
    );
  const asOption = ['--as <email>', 'act as this staff member or trader (default: the CEO)'] as const;
  bots
    .command('list')
    .description("Bots with owner, strategy, symbols, mode and status: every trader's for staff, a trader's own with --as")
    .option('--status <status>', 'only this status: stopped, starting, running, stopping, paused, error, frozen')
    .option('--tenant <email>', "only this trader's bots")
    .option('--limit <n>', 'at most this many bots, oldest first (1–1000)', '100')
    .option(...asOption)
    .option('--json', 'print one JSON object: bots, total, byStatus')
    .action(lazy(load.bots, 'botsListCommand'));
  bots
    .command('show')
    .description('One bot: owner, strategy and parameters, status, open positions, trades')
    .argument('[id]', "the bot's id")
    .option(...asOption)
    .option('--json', 'print one JSON object: bot, positions, trades')
    .action(lazy(load.bots, 'botsShowCommand'));
  bots
    .command('create')
    .description("Create a bot, stopped, in a trader's account (paper unless --mode live)")
    .option('--name <name>', "the bot's name")
    .option('--strategy <name>', 'rsi, rsi-reference, macd-cross, ema-cross or bollinger-reversion')
    .option('--symbols <list>', 'comma-separated, e.g. BTC/USDT,ETH/USDT')
    .option('--timeframe <tf>', '5m, 15m, 1h, 4h or 1d')
    .option('--stake <amount>', 'cash the bot may commit, in the quote currency', '100')
    .option('--mode <mode>', 'paper or live', 'paper')
    .option('--param <name=value>', 'strategy parameter, repeatable (e.g. --param rsiBuy=35)', collect, [])
    .option('--tenant <email>', 'the trader whose bot it is (staff)')
    .option(...asOption)
    .option('--json', 'print one JSON object: bot')
    .action(lazy(load.bots, 'botsCreateCommand'));
  bots
    .command('start')
    .description('Start a bot (plan limits apply); a live-mode bot only with --confirm-live')
    .argument('[id]', "the bot's id")
    .option('--confirm-live', 'confirm starting a live-mode bot (it trades on the exchange account)')
    .option(...asOption)
    .option('--json', 'print one JSON object: botId, name, mode, previousStatus, status')
    .action(lazy(load.bots, 'botsStartCommand'));
  bots
    .command('stop')
    .description('Stop a bot (open positions are kept)')
    .argument('[id]', "the bot's id")
    .option(...asOption)
    .option('--json', 'print one JSON object: botId, name, mode, previousStatus, status')
    .action(lazy(load.bots, 'botsStopCommand'));
  bots
    .command('forceexit')
    .description("Sell a bot's open positions now, at market, through the risk gate (one symbol with --symbol)")
    .argument('[id]', "the bot's id")
    .option('--symbol <symbol>', 'only this symbol, e.g. BTC/USDT')
    .option(...asOption)
    .option('--json', 'print one JSON object: botId, exits')
    .action(lazy(load.bots, 'botsForceExitCommand'));

  return program;
}

function numberOption(name: string, min: number, max: number) {
  return (value: string) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

/** Known failures get one clear line and an exit code; anything else is a bug and shows its stack. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Already printed by commander (with the help hint); --help and --version end here too.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
    } else if (isProductError(error)) {
      const hint = error.category === 'usage' ? '\n(run with --help for usage)' : '';
      console.error(error.category === 'usage' || error.category === 'config' ? `${error.message}${hint}` : `Error: ${error.message}`);
      process.exitCode = exitCodeFor(error.category);
    } else {
      // Stripe's own errors (bad key, Stripe down) are named in one line; only a bug shows its stack.
      const { describeStripeFailure } = await import('../billing/index.ts');
      const stripeFailure = describeStripeFailure(error);
      console.error(stripeFailure ? `Error: ${stripeFailure}` : error);
      process.exitCode = 1;
    }
  }
}
