import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process, so tests can build several apps without name clashes. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly databaseUp: Gauge;
  readonly migrationsPending: Gauge;
  readonly auditAppends: Counter<'outcome'>;
  readonly agentTurns: Counter<'agent' | 'mode'>;
  readonly agentModelCalls: Counter<'agent'>;
  readonly agentUngroundedAnswers: Counter<'agent'>;
  readonly agentRejectedAnswers: Counter<'agent' | 'reason'>;
  readonly agentTurnOverhead: Histogram<'agent'>;
  readonly jobQueueDepth: Gauge<'queue' | 'state'>;
  readonly jobLatency: Histogram<'queue'>;
  readonly jobFailures: Counter<'queue' | 'final'>;
  readonly jobSchedulesRecreated: Counter<'queue' | 'schedule'>;
  readonly botTicks: Counter<'outcome'>;
  readonly botLockTakeovers: Counter;
  readonly botLocksLost: Counter;
  readonly botMissedSlots: Counter;
  readonly workflowRuns: Counter<'workflow' | 'status'>;
  readonly marketFeedStale: Gauge<'exchange' | 'symbol' | 'timeframe'>;
  readonly marketFeedLastBarAge: Gauge<'exchange' | 'symbol' | 'timeframe'>;
  readonly backupRuns: Counter<'outcome'>;
  readonly privacyRetentionRemoved: Counter<'kind'>;
  readonly liveEventClients: Gauge;
  readonly liveEventsSent: Counter<'type'>;
  readonly liveEventClientsCutOff: Counter;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'botcriptofy' });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, matched route and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    databaseUp: new Gauge({
      name: 'database_up',
      help: '1 when the last database health check succeeded, 0 otherwise.',
      registers: [registry],
    }),
    migrationsPending: new Gauge({
      name: 'database_migrations_pending',
      help: 'Migrations shipped with this build that the database has not applied.',
      registers: [registry],
    }),
    auditAppends: new Counter({
      name: 'audit_appends_total',
      help: 'Audit log entries appended, by outcome recorded in the entry.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    agentTurns: new Counter({
      name: 'agent_turns_total',
      help: 'Agent turns answered, by agent and mode (ollama: the model answered; offline: router and templates).',
      labelNames: ['agent', 'mode'],
      registers: [registry],
    }),
    agentModelCalls: new Counter({
      name: 'agent_model_calls_total',
      help: 'Calls to the local model, by agent.',
      labelNames: ['agent'],
      registers: [registry],
    }),
    agentUngroundedAnswers: new Counter({
      name: 'agent_ungrounded_answers_total',
      help: 'Model answers that stated figures no tool of the turn produced, replaced by a rendering of the tool results.',
      labelNames: ['agent'],
      registers: [registry],
    }),
    agentRejectedAnswers: new Counter({
      name: 'agent_rejected_answers_total',
      help: "Model answers never shown because they failed a check (the answer gate's rules, or ungrounded figures), by agent and reason; each was replaced by a rendering of the tool results.",
      labelNames: ['agent', 'reason'],
      registers: [registry],
    }),
    agentTurnOverhead: new Histogram({
      name: 'agent_turn_overhead_seconds',
      help: 'Time of a turn outside the model (routing, tools, audit, memory, grounding).',
      labelNames: ['agent'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    jobQueueDepth: new Gauge({
      name: 'job_queue_depth',
      help: 'Jobs per queue and state (waiting, delayed, active, failed), read at each scrape.',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
    jobLatency: new Histogram({
      name: 'job_latency_seconds',
      help: 'From a job being due to it finishing, per queue.',
      labelNames: ['queue'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: [registry],
    }),
    jobFailures: new Counter({
      name: 'job_failures_total',
      help: 'Failed job attempts per queue; final="true" when no retry is left.',
      labelNames: ['queue', 'final'],
      registers: [registry],
    }),
    jobSchedulesRecreated: new Counter({
      name: 'job_schedules_recreated_total',
      help: 'Schedules this process found missing from Redis (restarted empty, failed over, flushed) and declared again.',
      labelNames: ['queue', 'schedule'],
      registers: [registry],
    }),
    botTicks: new Counter({
      name: 'bot_ticks_total',
      help: 'Bot ticks run by this worker, by outcome (ok, failed).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    botLockTakeovers: new Counter({
      name: 'bot_lock_takeovers_total',
      help: "Bots this worker took (first start, a dead worker's, or rebalanced).",
      registers: [registry],
    }),
    botLocksLost: new Counter({
      name: 'bot_locks_lost_total',
      help: 'Bots this worker stopped acting for because its lock lapsed or another took over.',
      registers: [registry],
    }),
    botMissedSlots: new Counter({
      name: 'bot_missed_slots_total',
      help: 'Tick intervals skipped because this worker fell more than 3 intervals behind.',
      registers: [registry],
    }),
    workflowRuns: new Counter({
      name: 'workflow_runs_total',
      help: 'Workflow runs by workflow and final status.',
      labelNames: ['workflow', 'status'],
      registers: [registry],
    }),
    marketFeedStale: new Gauge({
      name: 'market_feed_stale',
      help: '1 while a market feed this worker watches has had no new closed bar for two timeframes (its bots take no new entries), else 0.',
      labelNames: ['exchange', 'symbol', 'timeframe'],
      registers: [registry],
    }),
    marketFeedLastBarAge: new Gauge({
      name: 'market_feed_last_bar_age_seconds',
      help: 'Seconds since the newest cached bar of a market feed closed.',
      labelNames: ['exchange', 'symbol', 'timeframe'],
      registers: [registry],
    }),
    backupRuns: new Counter({
      name: 'backup_runs_total',
      help: 'Scheduled backups run by this process, by outcome (ok, failed).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    privacyRetentionRemoved: new Counter({
      name: 'privacy_retention_removed_total',
      help: 'Rows the retention schedule removed, by kind (agent_messages, agent_threads, security_events, unconverted_leads).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    liveEventClients: new Gauge({
      name: 'live_event_clients',
      help: 'Clients connected to GET /api/v1/events (Server-Sent Events) in this process.',
      registers: [registry],
    }),
    liveEventsSent: new Counter({
      name: 'live_events_sent_total',
      help: 'Events written to live-event clients, one per client an event reaches (replays and resets included), by event type.',
      labelNames: ['type'],
      registers: [registry],
    }),
    liveEventClientsCutOff: new Counter({
      name: 'live_event_clients_cut_off_total',
      help: 'Live-event clients disconnected because too many events waited for them (a stalled reader; it resumes with Last-Event-ID).',
      registers: [registry],
    }),
  };
}
