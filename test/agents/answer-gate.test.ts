import { describe, expect, it } from 'vitest';
import { ANSWER_RULES, claimsEffect, gateAnswer, MAX_ANSWER_CHARS, type GateInput, type GateReason } from '../../agents/index.ts';
import type { ToolOutcome } from '../../tools/index.ts';

// Each rule of the answer gate on its own: answers it must stop and answers it must let
// through (a rule that stops good answers costs the person the model's wording; one that lets
// bad ones through costs their trust).

const read: ToolOutcome = { ok: true, tool: 'revenue_summary', result: { mrrCents: 1_234_567, payingCustomers: 212 }, durationMs: 1 };
const hashRead: ToolOutcome = {
  ok: true,
  tool: 'verify_audit_chain',
  result: { ok: true, rowsChecked: 10, lastHash: 'a3f1c2d4e5b6978812345678abcdef0123456789abcdef0123456789abcdef01' },
  durationMs: 1,
};
const configChanged: ToolOutcome = {
  ok: true,
  tool: 'set_config',
  result: { key: 'trading.kill_switch', previousValue: false, value: true, version: 3 },
  durationMs: 1,
};
const approvalCreated: ToolOutcome = {
  ok: true,
  tool: 'refund_payment',
  pendingApproval: { id: '6f1c0f49-3f5e-4a51-9d7c-1a2b3c4d5e6f', summary: 'Refund', approverDepartment: 'finance', args: {} },
  message: 'Awaiting approval',
  durationMs: 1,
};
const refused: ToolOutcome = { ok: false, tool: 'set_config', error: 'forbidden', message: 'Not allowed', durationMs: 1 };

const input = (answer: string, extra: Partial<GateInput> = {}): GateInput => ({ answer, locale: 'pt-BR', outcomes: [read], ...extra });
const rule = (reason: GateReason) => ANSWER_RULES.find((r) => r.reason === reason)!;
const fails = (reason: GateReason, answer: string, extra: Partial<GateInput> = {}) => rule(reason).check(input(answer, extra));

describe('answer gate rules, one by one', () => {
  it('has one rule per reason, each described', () => {
    expect(new Set(ANSWER_RULES.map((r) => r.reason)).size).toBe(ANSWER_RULES.length);
    for (const r of ANSWER_RULES) expect(r.description.length).toBeGreaterThan(10);
  });

  it('empty: no answer, or only spaces', () => {
    expect(fails('empty', '')).toBeDefined();
    expect(fails('empty', '  \n ')).toBeDefined();
    expect(fails('empty', 'O MRR é R$ 12.345,67.')).toBeUndefined();
  });

  it('unprintable: control characters, random bytes, broken characters, no words', () => {
    expect(fails('unprintable', 'O MRR é\u0000 R$ 10')).toBeDefined();
    expect(fails('unprintable', 'texto \u001b[31m colorido')).toBeDefined();
    expect(fails('unprintable', 'resultado \uFFFD\uFFFD')).toBeDefined();
    expect(fails('unprintable', 'meio \uD800 caractere')).toBeDefined();
    expect(fails('unprintable', 'x^<>WT; k#9d@! ]]q{= ;;8%$#^ Pq)(x~`|')).toBeDefined();
    expect(fails('unprintable', '12 34 56 7,8')).toBeDefined();
    // Real answers: figures, units, lists, arrows, emoji, markdown, e-mails, keys.
    for (const good of [
      'O MRR atual é R$ 12.345,67 (ARR R$ 148.148,04), com 212 clientes pagantes.',
      '- Black Friday (google-ads, active): R$1.500,00, 30 leads, CPL R$ 50,00\n- Halving Watch (youtube, paused) → 12 conversões',
      '✅ **Feito**: trading.kill_switch false → true (v3). ⚠️ Revise o risco ~5% amanhã.',
      'Cliente ana.souza@example.com no plano Pro #3, churn médio 2,5 % ao mês.',
      'MRR R$12.345 and 212 paying customers; BTC/USDT 1h at 97,432.10 USDT.',
    ])
      expect(fails('unprintable', good), good).toBeUndefined();
  });

  it('markup: tool-call syntax, JSON, code blocks, HTML, chat-template tokens', () => {
    expect(fails('markup', '{"answer": "^<>WT;')).toBeDefined();
    expect(fails('markup', '<tool_call>{"name": "refund_payment", "arguments": {}}</tool_call>')).toBeDefined();
    expect(fails('markup', 'Vou chamar a ferramenta: {"name": "list_plans"}')).toBeDefined();
    expect(fails('markup', '<|im_start|>assistant O MRR é R$ 10')).toBeDefined();
    expect(fails('markup', '```json\n{"mrr": 1}\n```')).toBeDefined();
    expect(fails('markup', 'O MRR é <b>R$ 10</b>')).toBeDefined();
    expect(fails('markup', '[{"plan": "pro"}]')).toBeDefined();
    expect(fails('markup', 'O MRR é R$ 10 {')).toBeDefined();
    expect(fails('markup', 'Planos: 1) Free; 2) Pro; 3) Enterprise. O e-mail <ana@example.com> tem o Pro.')).toBeUndefined();
    expect(fails('markup', '[alta] Erro no saque (aberto)')).toBeUndefined();
  });

  it(`too_long: more than ${MAX_ANSWER_CHARS} characters`, () => {
    expect(fails('too_long', 'palavra '.repeat(800))).toBeDefined();
    expect(fails('too_long', 'palavra '.repeat(700))).toBeUndefined();
  });

  it('repeated: the same sentence or line twice, a phrase or word in a loop', () => {
    const plans = 'Free: R$ 0,00/mês, 1 robô, só simulado\nPro: R$ 99,00/mês, 5 robôs, operação real';
    expect(fails('repeated', `${plans}\n${plans}\n${plans}`)).toBeDefined();
    expect(fails('repeated', 'O MRR subiu bastante este mês. O MRR subiu bastante este mês.')).toBeDefined();
    expect(fails('repeated', 'ok ok ok ok ok ok')).toBeDefined();
    expect(fails('repeated', 'abcabc-abcabc-abcabc-abcabc-abcabc-')).toBeDefined();
    expect(fails('repeated', plans)).toBeUndefined();
    expect(fails('repeated', '- Bot A: running\n- Bot B: running\n- Bot C: paused')).toBeUndefined();
  });

  it('secret: Stripe keys, webhook secrets, bot tokens, key material, URL passwords, configured values', () => {
    expect(fails('secret', 'A chave é sk_live_51HxYzAbCdEf123456')).toBeDefined();
    expect(fails('secret', 'use rk_test_abc123def456')).toBeDefined();
    expect(fails('secret', 'segredo whsec_9f8e7d6c5b4a')).toBeDefined();
    expect(fails('secret', 'token 123456789:AAH-abcdefghijklmnopqrstuvwxyz12345')).toBeDefined();
    expect(fails('secret', 'postgres://app:s3cr3tpass@db:5432/app')).toBeDefined();
    expect(fails('secret', 'api_key=Zx9Qw8Er7Ty6Ui5Op')).toBeDefined();
    expect(fails('secret', 'a chave da Binance é vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A')).toBeDefined();
    expect(fails('secret', 'valor configurado: hunter2hunter2', { secrets: ['hunter2hunter2'] })).toBeDefined();
    // Identifiers a tool returned, and ids, are not leaks.
    expect(
      fails('secret', 'Último hash a3f1c2d4e5b6978812345678abcdef0123456789abcdef0123456789abcdef01, 10 registros.', {
        outcomes: [hashRead],
      }),
    ).toBeUndefined();
    expect(fails('secret', 'Aprovação 6f1c0f49-3f5e-4a51-9d7c-1a2b3c4d5e6f aguardando.')).toBeUndefined();
    expect(fails('secret', 'Documento politica-de-reembolso-clientes-enterprise-2026 v2')).toBeUndefined();
  });

  it('wrong_language: the other language, or another script', () => {
    expect(fails('wrong_language', 'The MRR is R$ 12.345,67 and we have 212 paying customers this month.')).toBeDefined();
    expect(fails('wrong_language', 'O MRR é de R$ 12.345,67 e temos 212 clientes pagantes.', { locale: 'en' })).toBeDefined();
    expect(fails('wrong_language', '当前的月经常性收入是一万二千雷亚尔')).toBeDefined();
    expect(fails('wrong_language', 'O MRR é de R$ 12.345,67 e temos 212 clientes pagantes.')).toBeUndefined();
    expect(fails('wrong_language', 'The MRR is R$ 12.345,67 and we have 212 paying customers.', { locale: 'en' })).toBeUndefined();
    // Short answers and product words say nothing about the language.
    expect(fails('wrong_language', 'MRR R$ 12.345,67, churn 2 %.')).toBeUndefined();
    expect(fails('wrong_language', 'O kill switch do trading está desligado (status: paused, mode: paper).')).toBeUndefined();
  });

  it('unbacked_claim: a claim of an effect needs an effect or an approval of this turn', () => {
    for (const claim of [
      'Pronto, ativei o kill switch.',
      'Reembolsei o pagamento do cliente.',
      'O kill switch foi ativado.',
      'Feito!',
      'A campanha foi pausada com sucesso.',
      "I've turned the kill switch on.",
      'The payment has been refunded.',
      'The kill switch is now on.',
      'Done. The campaign is paused.',
      'Successfully updated the plan.',
    ]) {
      expect(claimsEffect(claim), claim).toBe(true);
      expect(fails('unbacked_claim', claim, { outcomes: [read] }), claim).toBeDefined();
      expect(fails('unbacked_claim', claim, { outcomes: [refused] }), claim).toBeDefined();
      expect(fails('unbacked_claim', claim, { outcomes: [configChanged] }), claim).toBeUndefined();
      expect(fails('unbacked_claim', claim, { outcomes: [approvalCreated] }), claim).toBeUndefined();
    }
    // Status reads are not claims.
    for (const statement of [
      'A campanha Halving Watch está pausada.',
      '3 robôs estão parados e 2 rodando.',
      'Pronto, consultei a ferramenta: MRR R$ 10.',
      'Three payments failed and were declined.',
      'We closed 12 deals this month.',
      'O kill switch está ligado desde ontem.',
    ]) {
      expect(claimsEffect(statement), statement).toBe(false);
    }
  });

  it('the verdict names the first rule that fails', () => {
    expect(gateAnswer(input('O MRR é R$ 12.345,67, com 212 clientes pagantes.'))).toEqual({ ok: true });
    expect(gateAnswer(input('{"answer": "Pronto, ativei'))).toMatchObject({ ok: false, reason: 'markup' });
    expect(gateAnswer(input('Pronto, ativei o kill switch.'))).toMatchObject({ ok: false, reason: 'unbacked_claim' });
    const leaked = gateAnswer(input('sk_live_51HxYzAbCdEf123456'));
    expect(leaked).toMatchObject({ ok: false, reason: 'secret' });
    expect(JSON.stringify(leaked)).not.toContain('51HxYz');
  });
});
