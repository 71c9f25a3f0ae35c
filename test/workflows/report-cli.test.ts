import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliHere } from '../support/cli.ts';
import { lastMessage, startFakeOllama, type FakeOllama } from '../support/fake-ollama.ts';

// `botcriptofy report` as a real process on a seeded embedded database.

describe('botcriptofy report', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-report-'));
  let fake: FakeOllama;
  beforeAll(async () => {
    fake = await startFakeOllama((request) => {
      const facts = JSON.parse(lastMessage(request).content) as { paying_customers: number };
      return { content: `Temos ${facts.paying_customers} clientes pagantes.` };
    });
    const seeded = await runCli(['seed', '--demo', '--traders', '30', '--as-of', '2026-11-01'], { DATA_DIR: dataDir });
    expect(seeded.code, seeded.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await fake?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('--json --send: the figures, the text with the model summary, queued for the CEO', async () => {
    const result = await runCliHere(['report', '--json', '--send'], { DATA_DIR: dataDir, OLLAMA_HOST: fake.url });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown> & {
      figures: Record<string, Record<string, unknown>>;
      text: string;
    };
    expect(report).toMatchObject({
      period: 'daily',
      summaryFrom: 'model',
      grounded: true,
      modelCalls: 1,
      delivery: { queued: true, duplicate: false },
    });
    expect(Object.keys(report.figures).sort()).toEqual([
      'audit',
      'finance',
      'marketing',
      'sales',
      'security',
      'support',
      'system',
      'trading',
    ]);
    expect(report.figures['finance']!['revenue_summary']).toMatchObject({
      mrrCents: expect.any(Number),
      payingCustomers: expect.any(Number),
    });
    const paying = (report.figures['finance']!['revenue_summary'] as { payingCustomers: number }).payingCustomers;
    expect(report.text).toContain(`Temos ${paying} clientes pagantes.`);
    expect(report.text).toContain('💰 Financeiro: MRR R$');
    expect(report.elapsedMs).toEqual(expect.any(Number));
  });

  it('prints the weekly report as text, offline, in English on request; refuses an unknown period', async () => {
    const result = await runCliHere(['report', '--period', 'weekly', '--offline', '--lang', 'en'], {
      DATA_DIR: dataDir,
      OLLAMA_HOST: fake.url,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^📊 Weekly executive report — week to \d{4}-\d{2}-\d{2}\n\n\(automatic summary, without the model, as asked\)\n/,
    );
    expect(result.stdout).toContain('🔏 Audit: trail intact');
    const wrong = await runCliHere(['report', '--period', 'monthly'], { DATA_DIR: dataDir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--period must be daily or weekly, got "monthly"');
  });
});
