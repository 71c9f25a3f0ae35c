import { describe, expect, it } from 'vitest';
import { refusalDetail, renderToolResult, reportActions, requestedAction, routeMessage } from '../../agents/index.ts';
import { IntentModel, trainingMessages } from '../../agents/intent-model.ts';
import { TEMPLATED_TOOLS } from '../../agents/templates.ts';
import { AGENT_TOOLSETS } from '../../agents/toolsets.ts';
import { amountCentsIn, dueInDays, windowIn } from '../../agents/when.ts';
import { HELDOUT_MESSAGES_FILE, loadEvalMessages } from '../../eval/messages.ts';
import { meaningScore, queryTerms, rankByMeaning } from '../../tools/catalogue/text-search.ts';
import { TOOLS } from '../../tools/index.ts';

// What the router understands without the model, rule by rule: windows, days ahead and
// amounts exactly; a write only on an imperative; documents by meaning; an intent model
// that stays out of what it has never seen.

const NOW = new Date('2026-12-01T12:00:00Z'); // a Tuesday

describe('windows looked back over', () => {
  it.each([
    ['lista os pagtos q falharam ontem', { days: 2, hours: 48 }],
    ['failed payments yesterday', { days: 2, hours: 48 }],
    ['hoje', { days: 1, hours: 24 }],
    ['essa semana', { days: 7, hours: 168 }],
    ['last 2 weeks', { days: 14, hours: 336 }],
    ['duas semanas', { days: 14, hours: 336 }],
    ['ultimos 3 meses', { days: 90, months: 3 }],
    ['last 6 months', { days: 180, months: 6 }],
    ['last six months', { days: 180, months: 6 }],
    ['mrr do semestre', { days: 180, months: 6 }],
    ['last quarter', { days: 90, months: 3 }],
    ['ultimas 6 horas', { days: 1, hours: 6 }],
    ['nos últimos 30 dias', { days: 30, hours: 720 }],
    ['este ano', { days: 365, months: 12 }],
  ])('"%s" → %j', (text, window) => {
    expect(windowIn(text)).toEqual(window);
  });

  it('finds no window where none is named, and no "1 day" in "and"', () => {
    expect(windowIn('qual o MRR?')).toBeUndefined();
    expect(windowIn('show me the spend and conversions per campaign for the last 30 days')).toEqual({ days: 30, hours: 720 });
  });

  it('routes the window into the tool arguments', () => {
    expect(routeMessage('finance', 'lista os pagtos q falharam ontem', NOW)).toMatchObject({ tool: 'failed_payments', args: { days: 2 } });
    expect(routeMessage('finance', 'MRR dos últimos 6 meses', NOW)).toMatchObject({ tool: 'revenue_summary', args: { months: 6 } });
    expect(routeMessage('security', 'any weird logins or api key stuff lately?? last week', NOW)).toMatchObject({
      tool: 'detect_anomalies',
      args: { hours: 168 },
    });
  });
});

describe('days ahead', () => {
  it.each([
    ['liga pra ele na sexta', 'pt-BR', 3],
    ['daqui a 2 semanas', 'pt-BR', 14],
    ['in 2 weeks', 'en', 14],
    ['em 3 dias', 'pt-BR', 3],
    ['amanhã', 'pt-BR', 1],
    ['tomorrow', 'en', 1],
    ['semana que vem', 'pt-BR', 7],
    ['next week', 'en', 7],
    ['on December 20', 'en', 19],
  ] as const)('"%s" → in %i days', (text, locale, days) => {
    expect(dueInDays(text, NOW, locale)).toBe(days);
  });

  it('schedules the follow-up on the day named', () => {
    expect(routeMessage('sales', 'agenda follow-up com ana@example.com na sexta', NOW)).toMatchObject({
      tool: 'schedule_follow_up',
      args: { email: 'ana@example.com', inDays: 3 },
    });
    expect(routeMessage('sales', 'schedule a follow up with joe@example.com in 2 weeks', NOW)).toMatchObject({
      tool: 'schedule_follow_up',
      args: { inDays: 14 },
    });
  });
});

describe('amounts', () => {
  it.each([
    ['devolve R$50 do pagamento', 5_000],
    ['R$ 49,90', 4_990],
    ['1.250 reais', 125_000],
    ['R$1.250,00', 125_000],
    ['refund 19.90 BRL', 1_990],
  ])('"%s" → %i cents', (text, cents) => {
    expect(amountCentsIn(text)).toBe(cents);
  });

  it('a partial refund carries its amount; a refund without one is the whole payment', () => {
    const id = '6f1c0f49-3f5e-4a51-9d7c-1a2b3c4d5e6f';
    expect(routeMessage('finance', `give back R$50 of payment ${id}, partial refund`, NOW)).toMatchObject({
      tool: 'refund_payment',
      args: { paymentId: id, amountCents: 5_000 },
    });
    expect(routeMessage('finance', `reembolsa o pagamento ${id}, cobrança duplicada`, NOW)!.args).not.toHaveProperty('amountCents');
  });
});

describe('reads are never routed to writes', () => {
  it.each([
    ['settings', "what's the brute force threshold set to?", 'get_config'],
    ['settings', 'o kill switch tá ligado?', 'get_config'],
    ['settings', 'is the kill switch on or off rn?', 'get_config'],
    ['marketing', 'did someone already pause the Black Friday campaign?', 'campaign_performance'],
  ])('%s: "%s" → %s', (agent, message, tool) => {
    const routed = routeMessage(agent as never, message, NOW);
    expect(routed?.tool).toBe(tool);
    expect(TOOLS.get(routed!.tool)!.effect).toBe('read');
  });

  it('an imperative reaches the write, with its value', () => {
    expect(routeMessage('settings', 'flip trading.kill_switch on', NOW)).toMatchObject({
      tool: 'set_config',
      args: { key: 'trading.kill_switch', value: true },
    });
    expect(routeMessage('settings', 'liga o kill switch, mercado derretendo', NOW)).toMatchObject({
      tool: 'set_config',
      args: { key: 'trading.kill_switch', value: true },
    });
    expect(routeMessage('marketing', "pause Indique e Ganhe asap, budget's blown", NOW)).toMatchObject({
      tool: 'pause_campaign',
      args: { campaign: 'Indique e Ganhe' },
    });
  });

  it('a statement that resembles an action answers the read and offers the action, in the language asked', () => {
    const message = 'o lead caio.moreira@gmail.com desistiu, perdido por preço';
    expect(routeMessage('sales', message, NOW)).toMatchObject({ tool: 'list_leads', offer: 'update_lead_stage' });
    expect(requestedAction('sales', message)).toMatchObject({
      tool: 'update_lead_stage',
      offered: true,
      args: { email: 'caio.moreira@gmail.com', stage: 'lost' },
    });
    const [line] = reportActions('sales', message, [], 'pt-BR');
    expect(line).toMatchObject({ status: 'not_done', tool: 'update_lead_stage' });
    expect(line!.text).toContain('Nada foi alterado');
    expect(line!.text).toContain('marque o lead caio.moreira@gmail.com como perdido');
    // A question about a setting offers the change of that setting, not a generic one.
    const [offer] = reportActions('settings', "what's the brute force threshold set to?", [], 'en');
    expect(offer!.text).toBe(
      'ℹ️ Nothing was changed. If you want to change a setting, ask for it directly: "set security.brute_force_threshold to <value>".',
    );
  });

  it('no message of the evaluation sets that expects a read is routed to a write', async () => {
    const all = [...(await loadEvalMessages()), ...(await loadEvalMessages(HELDOUT_MESSAGES_FILE))];
    const readToWrite = all.filter(
      (m) => TOOLS.get(m.tool)!.effect === 'read' && TOOLS.get(routeMessage(m.agent, m.message, NOW)?.tool ?? m.tool)!.effect !== 'read',
    );
    expect(readToWrite.map((m) => m.id)).toEqual([]);
  });
});

describe('documents by meaning', () => {
  const docs = [
    { slug: 'politica-de-privacidade', title: 'Política de Privacidade', body: 'Como tratamos dados pessoais (LGPD).' },
    { slug: 'procedimento-chave-vazada', title: 'Procedimento: chave de API vazada', body: 'Congele as chaves e avise o cliente.' },
    { slug: 'politica-de-reembolso', title: 'Política de Reembolso', body: 'Reembolsos em até 7 dias.' },
    { slug: 'termos-de-uso', title: 'Termos de Uso', body: 'Regras de uso da plataforma.' },
  ];
  it.each([
    ['the privacy policy', 'politica-de-privacidade'],
    ['leaked API key procedure', 'procedimento-chave-vazada'],
    ['procedimento de chave vazada', 'procedimento-chave-vazada'],
    ['refund rules', 'politica-de-reembolso'],
    ['politica de reembolsos', 'politica-de-reembolso'],
    ['terms of use', 'termos-de-uso'],
  ])('"%s" → %s', (query, slug) => {
    expect(rankByMeaning(query, docs, 1).map((d) => d.slug)).toEqual([slug]);
  });
  it('finds nothing for what no document is about', () => {
    expect(rankByMeaning('receita de bolo de chocolate', docs, 3)).toEqual([]);
    expect(queryTerms('o que é que')).toEqual([]);
    expect(meaningScore(queryTerms('privacy'), docs[0]!)).toBe(3);
  });
});

describe('intent model', () => {
  it('is trained on the labelled messages and never on held-out ones', async () => {
    const trained = new Set(trainingMessages().map((m) => m.message));
    const heldout = (await loadEvalMessages(HELDOUT_MESSAGES_FILE)).filter((m) => m.heldout);
    expect(heldout.length).toBeGreaterThanOrEqual(50);
    for (const m of heldout) expect(trained.has(m.message), m.id).toBe(false);
  });

  it('routes typo-ridden reads it has no rule for, and nothing it has never seen', () => {
    const model = new IntentModel([
      { message: 'quanto faturamos de recorrente?', tool: 'revenue_summary' },
      { message: 'qual o mrr atual', tool: 'revenue_summary' },
      { message: 'pagamentos que falharam', tool: 'failed_payments' },
      { message: 'cartões recusados ontem', tool: 'failed_payments' },
    ]);
    expect(model.classify('qnts pagamentos falhara?', ['revenue_summary', 'failed_payments'])).toMatchObject({ tool: 'failed_payments' });
    expect(model.classify('escreva um poema', ['revenue_summary', 'failed_payments'])!.support).toBe(0);
    expect(routeMessage('finance', 'escreva um poema', NOW)).toBeUndefined();
    expect(routeMessage('finance', 'tell me a joke', NOW)).toBeUndefined();
  });
});

describe("the issue's field reports, one by one", () => {
  it.each([
    ['finance', 'how many paying customers do we have right now', 'revenue_summary', {}],
    ['ceo', 'How many traders do we have?', 'company_kpis', {}],
    ['subscriptions', 'bump ana@example.com to enterprise', 'change_plan', { email: 'ana@example.com', planId: 'enterprise' }],
    ['security', 'any weird logins or api key stuff lately??', 'detect_anomalies', { hours: 168 }],
    [
      'marketing',
      'pausa o Halving Watch do youtube, estourou a verba',
      'pause_campaign',
      { campaign: 'Halving Watch do youtube', reason: 'estourou a verba' },
    ],
    [
      'marketing',
      'pause the Halving Watch campaign pls, creative is wrong',
      'pause_campaign',
      { campaign: 'Halving Watch', reason: 'creative is wrong' },
    ],
    ['subscriptions', 'what does the enterprise plan include?', 'list_plans', {}],
    ['audit', 'quem mexeu no kill switch?', 'config_history', { key: 'trading.kill_switch' }],
  ] as const)('%s: "%s" → %s %j', (agent, message, tool, args) => {
    expect(routeMessage(agent, message, NOW)).toMatchObject({ tool, args });
  });
});

it("reports the tool layer's and the tools' usual refusals in Portuguese", () => {
  const refusal = (error: 'forbidden' | 'not_found' | 'unavailable' | 'invalid_arguments', message: string) =>
    refusalDetail({ ok: false, tool: 'x', error, message, durationMs: 0 }, 'pt-BR');
  expect(refusal('forbidden', 'Not allowed: the marketing department may not use refund_payment.')).toBe(
    'o departamento Marketing não pode usar refund_payment.',
  );
  expect(refusal('invalid_arguments', 'Invalid arguments for set_config: key: Invalid input; value: Invalid input')).toBe(
    'confira os campos key, value.',
  );
  expect(refusal('not_found', 'No payment 6f1c0f49-3f5e-4a51-9d7c-1a2b3c4d5e6f.')).toBe(
    'pagamento 6f1c0f49-3f5e-4a51-9d7c-1a2b3c4d5e6f não encontrado.',
  );
  expect(refusal('not_found', 'trading.kill_switch is already false; nothing to change.')).toBe(
    'trading.kill_switch já está em false; nada a mudar.',
  );
  expect(refusal('not_found', 'Black Friday Cripto is finished; only active or scheduled campaigns can be paused.')).toBe(
    'Black Friday Cripto está finished; só campanhas ativas ou agendadas podem ser pausadas.',
  );
  expect(refusal('forbidden', 'The Free plan allows 3 backtests a day and 3 ran today; upgrade to Pro for more.')).toBe(
    'o plano Free permite 3 backtests por dia e 3 já rodaram hoje; mude para o Pro para ter mais.',
  );
  expect(refusal('not_found', 'No setting risk.foo (did you mean risk.stop_loss_pct?).')).toBe(
    'a configuração risk.foo não existe (quis dizer risk.stop_loss_pct?).',
  );
  expect(
    refusal('unavailable', 'A refund needs Stripe: set STRIPE_SECRET_KEY (billing runs in local mode; nothing is charged or refunded).'),
  ).toBe(
    'reembolsos precisam do Stripe: defina STRIPE_SECRET_KEY (sem ela o faturamento roda em modo local e nada é cobrado nem reembolsado).',
  );
  expect(refusal('not_found', 'Something only a tool says.')).toBe('Something only a tool says.');
});

it('answers say the window they looked at, in words', () => {
  expect(renderToolResult('detect_anomalies', { hours: 168, findings: [] }, 'pt-BR')).toBe(
    'Nenhuma anomalia nos últimos 7 dias (só esse período foi verificado).',
  );
  expect(renderToolResult('detect_anomalies', { hours: 24, findings: [] }, 'en')).toBe(
    'No anomalies in the last 24 h (only that period was checked).',
  );
  expect(renderToolResult('query_audit_log', { hours: 48, entries: [] }, 'pt-BR')).toBe('Nenhum registro nos últimos 2 dias.');
  expect(
    renderToolResult(
      'failed_payments',
      { days: 1, failedPayments: 0, failedAmountCents: 0, atRiskCents: 0, pastDueSubscriptions: 0 },
      'pt-BR',
    ),
  ).toMatch(/^No último dia: 0 pagamentos falharam/);
});

it('every tool an agent may call has an answer template (no raw JSON answers)', () => {
  // Tools in no agent's set (test/toolsets.test.ts lists them: the doors' own, such as Telegram's
  // freqtrade commands, the API's billing links and consents, the trader's assistant's drafts)
  // are answered by the door that calls them, in its own words.
  const callable = new Set<string>(Object.values(AGENT_TOOLSETS).flat());
  expect([...TOOLS.keys()].filter((tool) => callable.has(tool) && !TEMPLATED_TOOLS.includes(tool))).toEqual([]);
});
