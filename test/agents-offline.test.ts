import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentByName, answerOffline, detectLocale, routeMessage } from '../agents/index.ts';
import { BillingService } from '../billing/index.ts';
import { seedDemoCompany } from '../demo/index.ts';
import { createSecretBox } from '../secrets/index.ts';
import { actorForEmail, ceoEmail } from '../tools/index.ts';
import { createTestDatabase, type TestDatabase } from './support/databases.ts';

describe('offline router (no model)', () => {
  const cases: [string, string, string][] = [
    ['ceo', 'Como está a empresa hoje?', 'company_kpis'],
    ['ceo', 'Give me the company overview', 'company_kpis'],
    ['finance', 'Qual é o MRR atual?', 'revenue_summary'],
    ['finance', 'What is our ARR?', 'revenue_summary'],
    ['finance', 'quanto foi a receita?', 'revenue_summary'],
    ['finance', 'Quais pagamentos falharam?', 'failed_payments'],
    ['finance', 'show failed payments this month', 'failed_payments'],
    ['finance', 'temos inadimplência?', 'failed_payments'],
    ['subscriptions', 'quais são os planos?', 'list_plans'],
    ['subscriptions', 'how much is the Pro plan?', 'list_plans'],
    ['subscriptions', 'status da assinatura de ana@example.com', 'subscription_status'],
    ['support', 'os robôs de ana@example.com', 'bots_overview'],
    ['support', 'list the bots of joe@example.com', 'bots_overview'],
    ['support', 'posições abertas de ana@example.com', 'open_positions'],
    ['support', 'qual o lucro de ana@example.com na última semana?', 'trading_pnl'],
    ['security', 'algum bot pausado? ana@example.com', 'risk_status'],
    ['security', 'alguma anomalia nas últimas horas?', 'detect_anomalies'],
    ['security', 'any suspicious logins?', 'detect_anomalies'],
    ['security', 'eventos de segurança da semana', 'recent_security_events'],
    ['support', 'quantos tickets estão abertos?', 'open_tickets'],
    ['support', 'como conectar minha conta da Binance?', 'search_knowledge_base'],
    ['support', 'what is the refund policy?', 'search_knowledge_base'],
    ['audit', 'verificar a integridade da auditoria', 'verify_audit_chain'],
    ['audit', 'verify the audit chain', 'verify_audit_chain'],
    ['audit', 'mostre o log de auditoria', 'query_audit_log'],
    ['audit', 'recent actions that were denied', 'query_audit_log'],
  ];

  it.each(cases)('%s: "%s" → %s', (agent, message, tool) => {
    expect(routeMessage(agentByName(agent)!, message)?.tool).toBe(tool);
  });

  it('extracts the arguments it can', () => {
    expect(routeMessage('support', 'lucro de ana@example.com nos últimos 7 dias')).toMatchObject({
      tool: 'trading_pnl',
      args: { email: 'ana@example.com', days: 7 },
    });
    expect(routeMessage('audit', 'ações negadas')).toMatchObject({ args: { outcome: 'denied' } });
  });

  it("keeps each agent to its department's routes", () => {
    expect(routeMessage('marketing', 'qual o MRR?')).toBeUndefined();
    expect(routeMessage('ceo', 'qual o MRR?')?.tool).toBe('revenue_summary');
  });

  it('knows pt-BR and English department names and tells the languages apart', () => {
    expect(agentByName('Financeiro')).toBe('finance');
    expect(agentByName('SAC')).toBe('support');
    expect(agentByName('vendas')).toBe('sales');
    expect(agentByName('nobody')).toBeUndefined();
    expect(detectLocale('qual o MRR de hoje?')).toBe('pt-BR');
    expect(detectLocale('what is the MRR today?')).toBe('en');
  });
});

describe('an offline turn against the demo company', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemoCompany(test.handle.db, {
      secretBox: createSecretBox(crypto.randomBytes(32)),
      asOf: new Date('2026-11-01T00:00:00Z'),
      traders: 30,
    });
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('answers from the tool result, says the model is offline, and stays within policy', async () => {
    const ceo = (await actorForEmail(test.handle.db, (await ceoEmail(test.handle.db))!))!;
    const ctx = {
      db: test.handle.db,
      actor: ceo,
      billing: new BillingService(test.handle.db, undefined),
      now: () => new Date('2026-11-01T12:00:00Z'),
    };
    const turn = await answerOffline(ctx, 'finance', 'qual o MRR?');
    expect(turn).toMatchObject({ agent: 'finance', mode: 'offline', grounded: true, toolCalls: [{ tool: 'revenue_summary', ok: true }] });
    expect(turn.answer).toContain('modelo offline');
    expect(turn.answer).toMatch(/MRR R\$\s?[\d.]+,\d{2}/);
    const english = await answerOffline(ctx, 'finance', 'what is the MRR?');
    expect(english.answer).toContain('model offline');
    const unknown = await answerOffline(ctx, 'finance', 'escreva um poema');
    expect(unknown.toolCalls).toEqual([]);
    expect(unknown.answer).toContain('Sem o modelo não consigo fazer isso. Aqui eu consigo: MRR, ARR e churn');
  });
});
