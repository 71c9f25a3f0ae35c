import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { openDatabase, runMigrations, type Database } from '../../db/index.ts';
import { EXECUTIVE_REPORT, recoverInterruptedRuns } from '../../workflows/index.ts';
import { createTestDatabase, realPostgresAvailable } from '../support/databases.ts';
import { startFakeOllama, type ScriptedReply } from '../support/fake-ollama.ts';
import { seedDemo, workflowRuntime } from '../support/workflow-fixture.ts';

// A workflow process killed with SIGKILL between steps: the department steps have run and
// been persisted, the summary step is waiting on the model. Another process resumes the run
// from storage: it finishes, the department tools are not called again, and the report is
// delivered once.

const CHILD = fileURLToPath(new URL('../support/workflow-child.ts', import.meta.url));
const RUN_ID = 'executive-report:crash-test';

/** Starts the child and SIGKILLs it as soon as the model is asked (the departments are done). */
async function runAndKill(env: Record<string, string>, modelAsked: Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [CHILD], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve, reject) => {
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(signal) : reject(new Error(`child exited ${code}: ${stderr}`))));
  });
  await Promise.race([modelAsked, exited]);
  child.kill('SIGKILL');
  await exited;
}

async function workflowToolCalls(database: Database): Promise<string[]> {
  const rows = await database
    .select({ tool: db.auditLog.tool })
    .from(db.auditLog)
    .where(and(eq(db.auditLog.actorId, `system:workflow:${EXECUTIVE_REPORT}`), eq(db.auditLog.action, 'tool.call')));
  return rows.map((r) => r.tool ?? '').sort();
}

async function resumeAndCheck(database: Database, ollamaUrl: string): Promise<void> {
  // What the killed process left: every department step done and stored, the summary not.
  const [left] = await database.select().from(db.mastraWorkflowSnapshots).where(eq(db.mastraWorkflowSnapshots.runId, RUN_ID));
  const snapshot = left!.snapshot as { status: string; context: Record<string, { status: string }> };
  expect(snapshot.status).toBe('running');
  for (const step of ['finance', 'trading', 'security', 'support', 'sales', 'marketing', 'audit', 'system'])
    expect(snapshot.context[step]?.status, step).toBe('success');
  expect(snapshot.context['deliver']).toBeUndefined();
  const before = await workflowToolCalls(database);
  expect(before).toHaveLength(10);
  expect(await database.$count(db.notifications, eq(db.notifications.type, 'executive_report'))).toBe(0);

  // Another process (a fresh Mastra instance) finds the abandoned run and finishes it.
  const runtime = workflowRuntime(database, { ollamaUrl });
  const outcomes = await recoverInterruptedRuns(runtime.mastra, [EXECUTIVE_REPORT], { staleAfterMs: 0 });
  expect(outcomes).toHaveLength(1);
  expect(outcomes[0]).toMatchObject({
    runId: RUN_ID,
    status: 'success',
    result: { summaryFrom: 'model', delivery: { queued: true, duplicate: false } },
  });
  expect(await workflowToolCalls(database)).toEqual(before);
  const sent = await database.select().from(db.notifications).where(eq(db.notifications.type, 'executive_report'));
  expect(sent).toHaveLength(1);
  expect((sent[0]!.payload as { body: string }).body).toContain('Resumo escrito depois do reinício.');
  // Nothing left to recover; asking again changes nothing.
  expect(await recoverInterruptedRuns(runtime.mastra, [EXECUTIVE_REPORT], { staleAfterMs: 0 })).toEqual([]);
  expect(await database.$count(db.notifications, eq(db.notifications.type, 'executive_report'))).toBe(1);
  expect(await database.$count(db.notifications, eq(db.notifications.type, 'chart'))).toBe(1);
}

function scriptedModel() {
  let hang = true;
  let asked: () => void = () => {};
  const modelAsked = new Promise<void>((resolve) => (asked = resolve));
  const script = (): ScriptedReply | Promise<ScriptedReply> => {
    if (hang) {
      asked();
      return new Promise<ScriptedReply>(() => {}); // the killed process waits here forever
    }
    return { content: 'Resumo escrito depois do reinício.' };
  };
  return { script, modelAsked, answer: () => (hang = false) };
}

describe('a workflow process killed between steps', () => {
  it.skipIf(!realPostgresAvailable)(
    'resumes on PostgreSQL from another process without repeating side effects',
    async () => {
      const test = await createTestDatabase('postgres');
      const model = scriptedModel();
      const fake = await startFakeOllama(model.script);
      try {
        await seedDemo(test.handle.db);
        await runAndKill({ DATABASE_URL: test.url!, OLLAMA_HOST: fake.url, RUN_ID }, model.modelAsked);
        model.answer();
        await resumeAndCheck(test.handle.db, fake.url);
      } finally {
        await fake.close();
        await test.dispose();
      }
    },
    120_000,
  );

  it('resumes on the embedded database (PGlite in a folder) after the killed process left it', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-wf-crash-'));
    const model = scriptedModel();
    const fake = await startFakeOllama(model.script);
    try {
      const setup = await openDatabase({ dataDir });
      await runMigrations(setup);
      await seedDemo(setup.db);
      await setup.close();
      await runAndKill({ DATA_DIR: dataDir, OLLAMA_HOST: fake.url, RUN_ID }, model.modelAsked);
      model.answer();
      const reopened = await openDatabase({ dataDir });
      try {
        await resumeAndCheck(reopened.db, fake.url);
      } finally {
        await reopened.close();
      }
    } finally {
      await fake.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
