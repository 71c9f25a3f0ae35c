import { useState } from 'preact/hooks';
import { api, type AgentTurn, type Approval, type AuditVerification } from '../api.ts';
import { RevenueChart } from '../charts.tsx';
import { AsyncView, ConfirmDialog, ErrorBox, errorText, Signed, TimeZoneNote, useAsync } from '../components.tsx';
import { formatBrl, formatDateTime, formatNumber, formatPct, formatQuote, useI18n } from '../i18n.ts';
import { useLiveEvents } from '../live.ts';
import { DataTable } from '../table.tsx';

// The staff pages (issue 17): exactly what the API lets each person do — a department that may
// not read something gets the API's refusal in words, not a blank page.

export function ApprovalsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [list, reload] = useAsync(() => api.approvals(), []);
  const [deciding, setDeciding] = useState<{ approval: Approval; decision: 'approve' | 'reject' } | null>(null);
  const [note, setNote] = useState('');
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  useLiveEvents((event) => {
    if (event.event === 'approval_requested' || event.event === 'approval_decided') reload();
  }, []);
  return (
    <section>
      <h1>{t('approvalsTitle')}</h1>
      <TimeZoneNote />
      {notice && (
        <p class={notice.error ? 'error' : 'notice'} role={notice.error ? 'alert' : 'status'}>
          {notice.text}
        </p>
      )}
      <AsyncView value={list} retry={reload}>
        {({ approvals }) =>
          approvals.length === 0 ? (
            <p class="empty">{t('approvalsEmpty')}</p>
          ) : (
            <DataTable
              class="approvals"
              rows={approvals}
              rowKey={(a) => a.id}
              rowAttributes={(a) => ({ 'data-approval-id': a.id })}
              columns={[
                { label: t('colAction'), cell: (a) => a.tool },
                { label: t('colSummary'), cell: (a) => a.summary },
                { label: t('colApprover'), cell: (a) => a.approverDepartment },
                { label: t('colRequested'), cell: (a) => formatDateTime(i18n, a.requestedAt) },
                { label: t('colExpires'), cell: (a) => formatDateTime(i18n, a.expiresAt) },
                {
                  label: t('colActions'),
                  cell: (a) => (
                    <div class="bot-actions">
                      <button type="button" class="primary" onClick={() => setDeciding({ approval: a, decision: 'approve' })}>
                        {t('approve')}
                      </button>
                      <button type="button" class="danger" onClick={() => setDeciding({ approval: a, decision: 'reject' })}>
                        {t('reject')}
                      </button>
                    </div>
                  ),
                },
              ]}
            />
          )
        }
      </AsyncView>
      {deciding && (
        <ConfirmDialog
          title={deciding.decision === 'approve' ? t('confirmApproveTitle') : t('confirmRejectTitle')}
          confirmLabel={deciding.decision === 'approve' ? t('approve') : t('reject')}
          danger={deciding.decision === 'reject'}
          onClose={() => {
            setDeciding(null);
            setNote('');
          }}
          onConfirm={async () => {
            try {
              const result = await api.decide(deciding.approval.id, deciding.decision, note.trim() || undefined);
              setNotice({
                text: t('decided', { status: t(`decision_${result.status}`), message: result.message ?? '' }),
                error: result.status === 'failed',
              });
            } catch (error) {
              setNotice({ text: errorText(i18n, error), error: true });
            }
            reload();
          }}
        >
          <p>
            <strong>{deciding.approval.tool}</strong>: {deciding.approval.summary}
          </p>
          <label>
            {t('decisionNote')}
            <input name="note" maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </label>
        </ConfirmDialog>
      )}
    </section>
  );
}

export function ReportPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [period, setPeriod] = useState<'daily' | 'weekly'>('daily');
  const [offline, setOffline] = useState(false);
  const [report, reload] = useAsync(() => api.executiveReport(period, offline, i18n.language), [period, offline, i18n.language]);
  const [kpis, reloadKpis] = useAsync(() => api.kpis(), []);
  return (
    <section>
      <h1>{t('reportTitle')}</h1>
      <TimeZoneNote />
      <div class="filters">
        <label>
          {t('reportPeriod')}
          <select name="period" value={period} onChange={(e) => setPeriod(e.currentTarget.value as 'daily' | 'weekly')}>
            <option value="daily">{t('periodDaily')}</option>
            <option value="weekly">{t('periodWeekly')}</option>
          </select>
        </label>
        <label class="inline">
          <input type="checkbox" name="offline" checked={offline} onChange={(e) => setOffline(e.currentTarget.checked)} />
          {t('reportOffline')}
        </label>
      </div>
      <h2>{t('kpisTitle')}</h2>
      <AsyncView value={kpis} retry={reloadKpis}>
        {(k) => (
          <dl class="metrics kpis">
            {(
              [
                [t('kMrr'), formatBrl(i18n, k.finance.mrrCents)],
                [t('kArr'), formatBrl(i18n, k.finance.arrCents)],
                [t('kPaying'), formatNumber(i18n, k.finance.payingCustomers, 0)],
                [t('kChurn'), formatPct(i18n, k.finance.customerChurn30dPct)],
                [t('kNetNewMrr'), formatBrl(i18n, k.finance.netNewMrr30dCents)],
                [t('kFailedPayments'), formatNumber(i18n, k.finance.failedPayments30d, 0)],
                [t('kRunningBots'), formatNumber(i18n, k.trading.runningBots, 0)],
                [t('kProfit30d'), formatQuote(i18n, k.trading.profit30dQuote, { signed: true })],
                [t('kOpenTickets'), formatNumber(i18n, k.support.openTickets, 0)],
                [t('kOverdue'), formatNumber(i18n, k.support.overdueTickets, 0)],
                [t('kOpenLeads'), formatNumber(i18n, k.sales.openLeads, 0)],
                [t('kHighSeverity'), formatNumber(i18n, k.security.highSeverityEvents24h, 0)],
                [t('kPendingApprovals'), formatNumber(i18n, k.approvals.pending, 0)],
              ] as const
            ).map(([label, value]) => (
              <div class="metric" key={label}>
                <dt>{label}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
        )}
      </AsyncView>
      <AsyncView value={report} retry={reload}>
        {(r) => (
          <article class="report">
            <p class="muted">{t('reportAsOf', { date: formatDateTime(i18n, r.asOf) })}</p>
            <p class={`badge from-${r.summaryFrom}`} data-summary-from={r.summaryFrom}>
              {r.summaryFrom === 'model'
                ? t('reportFromModel')
                : t('reportFromTemplate', { why: r.fallback ? t(`fallback_${r.fallback}` as 'fallback_offline') : '—' })}
            </p>
            <figure class="chart-figure">
              <figcaption>{t('revenueChartTitle', { months: r.revenue.months.length })}</figcaption>
              <RevenueChart months={r.revenue.months} label={t('revenueChartLabel')} />
            </figure>
            <pre class="report-text">{r.text}</pre>
          </article>
        )}
      </AsyncView>
    </section>
  );
}

/** Chat with an agent: only those the person may ask (GET /me's access.agents), their department's first chosen. */
export function AgentsPage(props: { department: string | null; agents: readonly string[] }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [agent, setAgent] = useState<string>(
    props.department && props.agents.includes(props.department) ? props.department : (props.agents[0] ?? 'support'),
  );
  const [message, setMessage] = useState('');
  const [offline, setOffline] = useState(false);
  const [busy, setBusy] = useState(false);
  const [turns, setTurns] = useState<{ question: string; turn: AgentTurn }[]>([]);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const question = message.trim();
    if (!question) return;
    setBusy(true);
    setError(null);
    try {
      const turn = await api.ask(agent, question, offline);
      setTurns([{ question, turn }, ...turns]);
      setMessage('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>{t('agentsTitle')}</h1>
      <form class="ask" onSubmit={submit}>
        <div class="row">
          <label>
            {t('agent')}
            <select name="agent" value={agent} onChange={(e) => setAgent(e.currentTarget.value)}>
              {props.agents.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
          <label class="inline">
            <input type="checkbox" name="offline" checked={offline} onChange={(e) => setOffline(e.currentTarget.checked)} />
            {t('askOffline')}
          </label>
        </div>
        <label>
          {t('message')}
          <textarea name="message" rows={3} maxLength={4000} required value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('loading') : t('send')}
        </button>
      </form>
      {error !== null && <ErrorBox error={error} />}
      <ol class="turns" aria-live="polite">
        {turns.map(({ question, turn }) => (
          <li key={`${turn.elapsedMs}-${question}`} class="turn">
            <p class="question">
              <strong>{turn.agent}</strong> · {question}
            </p>
            <p class="answer">{turn.answer}</p>
            <p class="small muted">
              <span class={`badge from-${turn.answerFrom}`} data-answer-from={turn.answerFrom}>
                {turn.answerFrom === 'model' ? t('answerFromModel') : t('answerFromTemplate')}
              </span>{' '}
              {turn.mode} · {formatNumber(i18n, turn.elapsedMs, 0)} ms
            </p>
            <p class="small">
              {t('toolsUsed')}:{' '}
              {turn.toolCalls.length === 0 ? (
                t('noTools')
              ) : (
                <span class="tools">
                  {turn.toolCalls.map((c) => (
                    <code key={c.tool} class={c.ok ? undefined : 'loss'}>
                      {c.tool}
                    </code>
                  ))}
                </span>
              )}
            </p>
            {turn.actions.length > 0 && (
              <p class="small">
                {t('actionsTaken')}: {turn.actions.map((a) => `${a.tool ?? '—'} (${a.status})`).join(', ')}
              </p>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function StatusPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [status, reload] = useAsync(() => api.status(), []);
  return (
    <section>
      <h1>{t('statusTitle')}</h1>
      <button type="button" class="secondary" onClick={reload}>
        {t('retry')}
      </button>
      <AsyncView value={status} retry={reload}>
        {(s) => (
          <>
            <h2>{t('botsByStatus')}</h2>
            <dl class="metrics">
              {Object.entries(s.bots).map(([name, count]) => (
                <div class="metric" key={name}>
                  <dt>{t(`status_${name}` as 'status_running')}</dt>
                  <dd>{count}</dd>
                </div>
              ))}
            </dl>
            <p class={s.runningBotsNotTicked > 0 ? 'error' : 'muted'}>{t('notTicked', { count: s.runningBotsNotTicked })}</p>
            <h2>
              {t('workers')} ({s.jobs}, {s.tickIntervalS} s)
            </h2>
            <ul>
              {s.workers.map((w) => (
                <li key={w.workerId}>
                  <code>{w.workerId}</code> — {w.alive ? t('alive') : t('dead')}, {w.bots} {t('navBots').toLowerCase()}
                </li>
              ))}
            </ul>
            <h2>{t('queues')}</h2>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('queues')}</th>
                    <th scope="col" class="num">
                      {t('colWaiting')}
                    </th>
                    <th scope="col" class="num">
                      {t('colDelayed')}
                    </th>
                    <th scope="col" class="num">
                      {t('colActive')}
                    </th>
                    <th scope="col" class="num">
                      {t('colFailed')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(s.queues).map(([name, q]) => (
                    <tr key={name}>
                      <td data-label={t('queues')}>{name}</td>
                      <td data-label={t('colWaiting')} class="num">
                        {q?.waiting ?? '—'}
                      </td>
                      <td data-label={t('colDelayed')} class="num">
                        {q?.delayed ?? '—'}
                      </td>
                      <td data-label={t('colActive')} class="num">
                        {q?.active ?? '—'}
                      </td>
                      <td data-label={t('colFailed')} class="num">
                        {q?.failed ?? '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <h2>{t('feeds')}</h2>
            <ul>
              {s.feeds.map((f) => (
                <li key={`${f.exchange}:${f.symbol}:${f.timeframe}`}>
                  {f.exchange} {f.symbol} {f.timeframe} — <span class={f.stale ? 'loss' : 'gain'}>{f.stale ? t('stale') : t('fresh')}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </AsyncView>
    </section>
  );
}

export function AuditPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [tool, setTool] = useState('');
  const [outcome, setOutcome] = useState('');
  const [hours, setHours] = useState('24');
  const [limit, setLimit] = useState('50');
  const [applied, setApplied] = useState({ tool: '', outcome: '', hours: 24, limit: 50 });
  const [entries, reload] = useAsync(
    () =>
      api.audit({
        ...(applied.tool ? { tool: applied.tool } : {}),
        ...(applied.outcome ? { outcome: applied.outcome } : {}),
        hours: applied.hours,
        limit: applied.limit,
      }),
    [applied],
  );
  const [verification, setVerification] = useState<AuditVerification | null>(null);
  const [verifyError, setVerifyError] = useState<unknown>(null);
  const [verifying, setVerifying] = useState(false);
  return (
    <section>
      <h1>{t('auditTitle')}</h1>
      <TimeZoneNote />
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ tool: tool.trim(), outcome, hours: Number(hours) || 24, limit: Number(limit) || 50 });
        }}
      >
        <label>
          {t('filterTool')}
          <input name="tool" value={tool} onInput={(e) => setTool(e.currentTarget.value)} />
        </label>
        <label>
          {t('filterOutcome')}
          <select name="outcome" value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)}>
            <option value="">{t('filterAll')}</option>
            {['ok', 'denied', 'error', 'pending_approval'].map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </label>
        <label>
          {t('filterHours')}
          <input type="number" name="hours" min="1" max="2160" value={hours} onInput={(e) => setHours(e.currentTarget.value)} />
        </label>
        <label>
          {t('filterLimit')}
          <input type="number" name="limit" min="1" max="100" value={limit} onInput={(e) => setLimit(e.currentTarget.value)} />
        </label>
        <button type="submit" class="secondary">
          {t('apply')}
        </button>
        <button
          type="button"
          class="primary"
          disabled={verifying}
          onClick={async () => {
            setVerifying(true);
            setVerifyError(null);
            try {
              setVerification(await api.verifyAudit());
            } catch (error) {
              setVerifyError(error);
            } finally {
              setVerifying(false);
            }
          }}
        >
          {t('verifyChain')}
        </button>
      </form>
      {verification && (
        <p class={verification.ok ? 'notice' : 'error'} role="status">
          {verification.ok
            ? t('chainIntact', { rows: formatNumber(i18n, verification.rowsChecked, 0) })
            : t('chainBroken', {
                id: verification.badRowId ?? '—',
                rows: formatNumber(i18n, verification.rowsChecked, 0),
                message: verification.message,
              })}
        </p>
      )}
      {verifyError !== null && <ErrorBox error={verifyError} />}
      <AsyncView value={entries} retry={reload}>
        {({ entries: rows }) =>
          rows.length === 0 ? (
            <p class="empty">{t('auditEmpty')}</p>
          ) : (
            <DataTable
              rows={rows}
              rowKey={(r) => String(r.id)}
              columns={[
                { label: t('colAt'), cell: (r) => formatDateTime(i18n, r.at) },
                { label: t('colActor'), cell: (r) => r.actor ?? '—' },
                { label: t('colAgent'), cell: (r) => r.agent ?? '—' },
                { label: t('colAction'), cell: (r) => r.action },
                { label: t('filterTool'), cell: (r) => r.tool ?? '—' },
                {
                  label: t('colOutcome'),
                  cell: (r) => <Signed value={r.outcome === 'ok' ? 1 : r.outcome === 'pending_approval' ? 0 : -1}>{r.outcome}</Signed>,
                },
              ]}
            />
          )
        }
      </AsyncView>
    </section>
  );
}

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;

/** Security events (GET /security-events: Security, Audit, the CEO): counts by type and the latest ten, by type, severity and hours. */
export function SecurityEventsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [type, setType] = useState('');
  const [severity, setSeverity] = useState('');
  const [hours, setHours] = useState('24');
  const [applied, setApplied] = useState({ type: '', severity: '', hours: 24 });
  // The types seen in the window without a type filter, for the type list.
  const [types, setTypes] = useState<string[]>([]);
  const [events, reload] = useAsync(async () => {
    const answer = await api.securityEvents({
      hours: applied.hours,
      ...(applied.severity ? { severity: applied.severity } : {}),
      ...(applied.type ? { type: applied.type } : {}),
    });
    if (!applied.type) setTypes(Object.keys(answer.byType).sort());
    return answer;
  }, [applied]);
  return (
    <section>
      <h1>{t('securityEventsTitle')}</h1>
      <TimeZoneNote />
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ type, severity, hours: Math.min(720, Math.max(1, Number(hours) || 24)) });
        }}
      >
        <label>
          {t('filterType')}
          <select name="type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="">{t('filterAll')}</option>
            {[...new Set([...types, ...(type ? [type] : [])])].map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('filterSeverity')}
          <select name="severity" value={severity} onChange={(e) => setSeverity(e.currentTarget.value)}>
            <option value="">{t('filterAll')}</option>
            {SEVERITIES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          {t('filterHours')}
          <input type="number" name="hours" min="1" max="720" value={hours} onInput={(e) => setHours(e.currentTarget.value)} />
        </label>
        <button type="submit" class="secondary">
          {t('apply')}
        </button>
      </form>
      <AsyncView value={events} retry={reload}>
        {(answer) =>
          answer.total === 0 ? (
            <p class="empty">{t('securityEventsEmpty')}</p>
          ) : (
            <>
              <p role="status" data-events-total={answer.total}>
                {t('securityEventsTotal', { total: formatNumber(i18n, answer.total, 0), hours: answer.hours })}
              </p>
              <h2>{t('securityEventsByType')}</h2>
              <DataTable
                class="security-by-type"
                rows={Object.entries(answer.byType).sort(([, a], [, b]) => b - a)}
                rowKey={([name]) => name}
                rowAttributes={([name]) => ({ 'data-type': name })}
                columns={[
                  { label: t('colType'), cell: ([name]) => name },
                  { label: t('colCount'), numeric: true, cell: ([, count]) => formatNumber(i18n, count, 0) },
                ]}
              />
              <h2>{t('securityEventsLatest')}</h2>
              <DataTable
                class="security-latest"
                rows={answer.latest.map((event, index) => ({ ...event, key: `${event.at}-${index}` }))}
                rowKey={(event) => event.key}
                columns={[
                  { label: t('colAt'), cell: (event) => formatDateTime(i18n, event.at) },
                  { label: t('colType'), cell: (event) => event.type },
                  {
                    label: t('colSeverity'),
                    cell: (event) => (
                      <Signed value={event.severity === 'high' || event.severity === 'critical' ? -1 : 0}>{event.severity}</Signed>
                    ),
                  },
                  { label: t('colIp'), cell: (event) => event.ip ?? '—' },
                  { label: t('colCountry'), cell: (event) => event.country ?? '—' },
                ]}
              />
            </>
          )
        }
      </AsyncView>
    </section>
  );
}
