import crypto from 'node:crypto';
import type { Department } from '../db/index.ts';
import { TICKET_SLA_HOURS } from '../db/index.ts';
import { PLANS } from '../billing/index.ts';
import {
  CAMPAIGN_THEMES,
  COMPANY_DOMAINS,
  CONFIG_ENTRIES,
  DOCUMENTS,
  INFLUENCER_HANDLES,
  LEAD_SOURCES,
  TICKET_SUBJECTS,
} from './content.ts';
import { DAY, HOUR, type Company, type Generation, type Trader } from './generation.ts';

/** 220 support tickets from traders over the last year, with the customer's message and the first answer. */
export function addSupportTickets(g: Generation, company: Company, traderTenants: readonly Trader[]): void {
  const { rng, asOf, data } = g;
  const { staffOf } = company;
  for (let i = 0; i < 220; i++) {
    const trader = rng.pick(traderTenants);
    const [subject, category] = rng.pick(TICKET_SUBJECTS);
    const createdAt = new Date(asOf - rng.int(0, 365) * DAY - rng.int(0, 23) * HOUR);
    const priority = rng.weighted([
      ['low', 20],
      ['normal', 50],
      ['high', 22],
      ['urgent', 8],
    ] as const);
    const ageHours = (asOf - createdAt.getTime()) / HOUR;
    const status =
      ageHours < 48
        ? rng.weighted([
            ['open', 50],
            ['pending', 25],
            ['escalated', 10],
            ['resolved', 15],
          ] as const)
        : rng.weighted([
            ['resolved', 60],
            ['closed', 35],
            ['escalated', 5],
          ] as const);
    const slaDueAt = new Date(createdAt.getTime() + TICKET_SLA_HOURS[priority] * HOUR);
    const responded = status !== 'open' || rng.chance(0.3);
    const firstResponseAt = responded ? new Date(createdAt.getTime() + rng.float(0.1, TICKET_SLA_HOURS[priority] * 1.3) * HOUR) : null;
    const resolvedAt = status === 'resolved' || status === 'closed' ? new Date(createdAt.getTime() + rng.int(2, 96) * HOUR) : null;
    const ticketId = rng.uuid();
    const agent = staffOf('support');
    data.supportTickets.push({
      id: ticketId,
      tenantId: trader.tenantId,
      requesterUserId: trader.userId,
      subject,
      category,
      status,
      priority,
      channel: rng.pick(['telegram', 'email', 'api']),
      assigneeStaffId: status === 'open' ? null : agent.staffId,
      slaDueAt,
      firstResponseAt,
      resolvedAt,
      createdAt,
      updatedAt: resolvedAt ?? firstResponseAt ?? createdAt,
    });
    data.ticketMessages.push({
      id: rng.uuid(),
      ticketId,
      tenantId: trader.tenantId,
      authorKind: 'customer',
      authorUserId: trader.userId,
      body: `${subject}. Podem me ajudar?`,
      createdAt,
    });
    if (firstResponseAt) {
      data.ticketMessages.push({
        id: rng.uuid(),
        ticketId,
        tenantId: trader.tenantId,
        authorKind: 'staff',
        authorUserId: agent.userId,
        body: 'Olá! Estamos verificando e retornamos em breve.',
        createdAt: firstResponseAt,
      });
    }
  }
}

/** 260 sales leads at every stage of the funnel. */
export function addLeads(g: Generation, company: Company, traderTenants: readonly Trader[]): void {
  const { rng, asOf, data, person } = g;
  const { staffOf } = company;
  for (let i = 0; i < 260; i++) {
    const domain = rng.chance(0.3) ? rng.pick(COMPANY_DOMAINS) : rng.pick(['gmail.com', 'hotmail.com', 'outlook.com']);
    const who = person(domain);
    const createdAt = new Date(asOf - rng.int(0, 365) * DAY);
    const stage = rng.weighted([
      ['new', 25],
      ['contacted', 22],
      ['qualified', 18],
      ['proposal', 10],
      ['won', 12],
      ['lost', 13],
    ] as const);
    const plan = rng.weighted([
      ['pro', 70],
      ['enterprise', 30],
    ] as const);
    const converted = stage === 'won' ? rng.pick(traderTenants).tenantId : null;
    data.leads.push({
      id: rng.uuid(),
      name: who.name,
      email: who.email,
      company: domain.includes('.com.br') && !domain.startsWith('g') ? domain.split('.')[0] : null,
      source: rng.pick(LEAD_SOURCES),
      stage,
      score: rng.int(stage === 'new' ? 5 : 30, stage === 'lost' ? 40 : 98),
      interestedPlanId: plan,
      estimatedMonthlyValueCents: PLANS[plan].monthlyPriceCents,
      ownerStaffId: stage === 'new' ? null : staffOf('sales').staffId,
      nextFollowUpAt: ['contacted', 'qualified', 'proposal'].includes(stage) ? new Date(asOf + rng.int(-5, 14) * DAY) : null,
      convertedTenantId: converted,
      lostReason: stage === 'lost' ? rng.pick(['preço', 'sem tempo', 'concorrente', 'sem resposta']) : null,
      createdAt,
      updatedAt: new Date(Math.min(asOf, createdAt.getTime() + rng.int(0, 30) * DAY)),
    });
  }
}

/** The influencers (each with a partner account) and 24 campaigns. */
export function addMarketing(g: Generation, company: Company): void {
  const { rng, asOf, data, person } = g;
  const { staffOf } = company;
  const influencerIds: string[] = [];
  for (const [handle, platform] of INFLUENCER_HANDLES) {
    const tenantId = rng.uuid();
    const userId = rng.uuid();
    const createdAt = new Date(asOf - rng.int(30, 500) * DAY);
    const who = person('parceiros.botcriptofy.com.br');
    data.tenants.push({ id: tenantId, kind: 'influencer', name: handle, locale: 'pt-BR', createdAt });
    data.users.push({ id: userId, tenantId, email: who.email, name: who.name, locale: 'pt-BR', createdAt });
    const id = rng.uuid();
    influencerIds.push(id);
    data.influencers.push({
      id,
      tenantId,
      handle,
      platform,
      followers: rng.int(8_000, 900_000),
      commissionPct: rng.pick(['10', '15', '20', '25']),
      status: rng.weighted([
        ['active', 80],
        ['paused', 12],
        ['ended', 8],
      ] as const),
      createdAt,
    });
  }
  for (let i = 0; i < 24; i++) {
    const startsAt = new Date(asOf - rng.int(-20, 360) * DAY);
    const endsAt = new Date(startsAt.getTime() + rng.int(7, 45) * DAY);
    const status =
      startsAt.getTime() > asOf
        ? rng.weighted([
            ['draft', 40],
            ['scheduled', 60],
          ] as const)
        : endsAt.getTime() < asOf
          ? 'finished'
          : rng.weighted([
              ['active', 85],
              ['paused', 15],
            ] as const);
    const started = status !== 'draft' && status !== 'scheduled';
    const budget = rng.pick([200_000, 500_000, 1_000_000, 2_500_000]);
    const impressions = started ? rng.int(20_000, 1_500_000) : 0;
    const clicks = Math.round(impressions * rng.float(0.005, 0.04));
    const signups = Math.round(clicks * rng.float(0.03, 0.12));
    const channel = rng.pick(['instagram', 'youtube', 'email', 'telegram', 'google-ads', 'tiktok']);
    data.campaigns.push({
      id: rng.uuid(),
      name: `${rng.pick(CAMPAIGN_THEMES)} ${new Date(startsAt).getUTCFullYear()}`,
      channel,
      status,
      influencerId: ['instagram', 'youtube', 'tiktok'].includes(channel) && rng.chance(0.5) ? rng.pick(influencerIds) : null,
      budgetCents: budget,
      spentCents: started ? Math.round(budget * rng.float(0.3, status === 'finished' ? 1 : 0.8)) : 0,
      impressions,
      clicks,
      signups,
      conversions: Math.round(signups * rng.float(0.1, 0.35)),
      startsAt,
      endsAt,
      createdByStaffId: staffOf('marketing').staffId,
      createdAt: new Date(startsAt.getTime() - rng.int(3, 20) * DAY),
    });
  }
}

/** The company's documents, each with 1–4 versions. */
export function addDocuments(g: Generation, company: Company): void {
  const { rng, asOf, data } = g;
  const { staffOf } = company;
  for (const [slug, title, category, department, paragraphs] of DOCUMENTS) {
    const documentId = rng.uuid();
    const versions = rng.int(1, 4);
    const createdAt = new Date(asOf - rng.int(200, 700) * DAY);
    let at = createdAt.getTime();
    for (let v = 1; v <= versions; v++) {
      const body = [...paragraphs.slice(0, Math.max(1, paragraphs.length - (versions - v))), v > 1 ? `Revisão ${v}: texto atualizado.` : '']
        .filter(Boolean)
        .join('\n\n');
      data.documentVersions.push({
        id: rng.uuid(),
        documentId,
        version: v,
        title,
        body,
        sha256: crypto.createHash('sha256').update(body).digest('hex'),
        authorStaffId: staffOf(department as Department).staffId,
        changeNote: v === 1 ? 'Versão inicial' : 'Atualização periódica',
        createdAt: new Date(at),
      });
      at += rng.int(20, 150) * DAY;
    }
    data.documents.push({
      id: documentId,
      slug,
      title,
      category,
      department: department as Department,
      status: 'published',
      currentVersion: versions,
      createdAt,
      updatedAt: new Date(Math.min(asOf, at)),
    });
  }
}

/** The configuration entries with their history, changed by the Settings head. */
export function addConfiguration(g: Generation, company: Company): void {
  const { rng, asOf, data } = g;
  const { staffByDepartment } = company;
  const settingsHead = staffByDepartment.get('settings')![0]!.userId;
  for (const [key, description, values] of CONFIG_ENTRIES) {
    let at = asOf - rng.int(300, 600) * DAY;
    values.forEach((value, index) => {
      data.configEntryVersions.push({
        key,
        version: index + 1,
        value,
        changedByUserId: settingsHead,
        reason: index === 0 ? 'Valor inicial' : 'Ajuste após revisão',
        createdAt: new Date(at),
      });
      if (index < values.length - 1) at += rng.int(30, 200) * DAY;
    });
    data.configEntries.push({
      key,
      value: values[values.length - 1],
      version: values.length,
      description,
      updatedByUserId: settingsHead,
      updatedAt: new Date(at),
    });
  }
}

/**
 * Security events of the last 90 days, and one brute-force burst against a trader who has an
 * exchange key (so the proposed freeze has something to freeze); returns that trader.
 */
export function addSecurityEvents(g: Generation, traderTenants: readonly Trader[]): Trader {
  const { rng, asOf, data } = g;
  const countries = ['BR', 'BR', 'BR', 'BR', 'PT', 'US', 'AR'];
  for (let i = 0; i < 600; i++) {
    const trader = rng.pick(traderTenants);
    const type = rng.weighted([
      ['login_succeeded', 50],
      ['login_failed', 20],
      ['api_key_used', 18],
      ['new_ip', 7],
      ['permission_denied', 4],
      ['withdrawal_attempt', 1],
    ] as const);
    const severity =
      type === 'withdrawal_attempt'
        ? 'high'
        : type === 'new_ip'
          ? 'medium'
          : type === 'login_failed' || type === 'permission_denied'
            ? 'low'
            : 'info';
    data.securityEvents.push({
      id: rng.uuid(),
      tenantId: trader.tenantId,
      userId: trader.userId,
      type,
      severity,
      ip: `${rng.int(100, 201)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
      country: rng.pick(countries),
      details: {},
      occurredAt: new Date(asOf - rng.int(0, 90 * 24 * 60) * 60_000),
    });
  }
  // The brute-force target has an exchange key, so the proposed freeze has something to freeze.
  const withKey = new Set(data.exchangeAccounts.map((account) => account.tenantId));
  const target = rng.pick(traderTenants.filter((trader) => withKey.has(trader.tenantId)).concat(withKey.size === 0 ? traderTenants : []));
  const burstAt = asOf - rng.int(1, 3) * DAY;
  for (let i = 0; i < 14; i++) {
    data.securityEvents.push({
      id: rng.uuid(),
      tenantId: target.tenantId,
      userId: target.userId,
      type: 'login_failed',
      severity: i > 5 ? 'high' : 'low',
      ip: '45.155.205.17',
      country: 'RU',
      details: { attempt: i + 1 },
      occurredAt: new Date(burstAt + i * 25_000),
    });
  }
  return target;
}

/**
 * Approvals waiting for people. Each can be carried out on the demo as it stands (local mode:
 * no refunds or plan changes, which need Stripe; the tools refuse to propose those without a
 * key).
 */
export function addApprovals(g: Generation, company: Company, traderTenants: readonly Trader[], target: Trader): void {
  const { rng, asOf, data } = g;
  const { staffOf, companyId, ceoUserId } = company;
  const paidTrader =
    traderTenants.find(
      (trader) => trader.planId !== 'free' && data.payments.some((p) => p.tenantId === trader.tenantId && p.status === 'succeeded'),
    ) ?? traderTenants[0]!;
  const proposals: [Department, string, Record<string, unknown>, string, string][] = [
    [
      'security',
      'freeze_api_key',
      { email: target.email, reason: 'acesso de IP novo (RU)' },
      `Congelar as chaves de ${target.email} após 14 logins falhos vindos da Rússia`,
      target.tenantId,
    ],
    [
      'settings',
      'set_config',
      { key: 'security.brute_force_threshold', value: 3, reason: 'ataque de força bruta vindo da Rússia' },
      'Mudar security.brute_force_threshold para 3: ataque de força bruta vindo da Rússia',
      companyId,
    ],
    [
      'settings',
      'rollback_config',
      { key: 'risk.max_daily_loss_pct', reason: 'o limite de 5 % pausou robôs demais' },
      'Voltar risk.max_daily_loss_pct para a versão anterior: o limite de 5 % pausou robôs demais',
      companyId,
    ],
  ];
  for (const [department, tool, args, summary, tenantId] of proposals) {
    const createdAt = new Date(asOf - rng.int(1, 20) * HOUR);
    data.approvals.push({
      id: rng.uuid(),
      tenantId,
      requestedByUserId: staffOf(department).userId,
      agent: department,
      tool,
      args,
      summary,
      approverDepartment: department,
      status: 'pending',
      expiresAt: new Date(createdAt.getTime() + 2 * DAY),
      createdAt,
    });
  }
  data.approvals.push({
    id: rng.uuid(),
    tenantId: paidTrader.tenantId,
    requestedByUserId: staffOf('finance').userId,
    agent: 'finance',
    tool: 'refund_payment',
    args: { reason: 'insatisfação', amountCents: 49_990 },
    summary: 'Reembolso de R$ 499,90',
    approverDepartment: 'finance',
    status: 'rejected',
    decidedByUserId: ceoUserId,
    decidedAt: new Date(asOf - 5 * DAY),
    decisionNote: 'Fora do prazo de 7 dias',
    expiresAt: new Date(asOf - 4 * DAY),
    createdAt: new Date(asOf - 6 * DAY),
  });
}
