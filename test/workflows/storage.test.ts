import { Mastra } from '@mastra/core';
import { MastraCompositeStore } from '@mastra/core/storage';
import { createStep, createWorkflow, type WorkflowRunState } from '@mastra/core/workflows';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inArray } from 'drizzle-orm';
import { mastraWorkflowSnapshots, PostgresWorkflowsStorage } from '../../db/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

const snapshotOf = (runId: string, status: WorkflowRunState['status'], context: Record<string, unknown> = {}): WorkflowRunState =>
  ({
    runId,
    status,
    context: { input: { n: 1 }, ...context },
    activePaths: [],
    activeStepsPath: {},
    serializedStepGraph: [],
    suspendedPaths: {},
    resumeLabels: {},
    waitingPaths: {},
    value: {},
    timestamp: Date.now(),
  }) as unknown as WorkflowRunState;

const success = (output: unknown) => ({ status: 'success', output, payload: {}, startedAt: 1, endedAt: 2 }) as never;

describe.each(testDrivers)('Mastra workflow storage on %s', (driver) => {
  let test: TestDatabase;
  let store: PostgresWorkflowsStorage;
  beforeAll(async () => {
    test = await createTestDatabase(driver);
    store = new PostgresWorkflowsStorage(test.handle.db);
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('persists, loads, lists, finds and deletes runs', async () => {
    const t0 = new Date('2026-11-01T08:00:00Z');
    await store.persistWorkflowSnapshot({
      workflowName: 'w',
      runId: 'r1',
      resourceId: 'ceo',
      snapshot: snapshotOf('r1', 'running'),
      createdAt: t0,
      updatedAt: t0,
    });
    await store.persistWorkflowSnapshot({
      workflowName: 'w',
      runId: 'r2',
      snapshot: snapshotOf('r2', 'success'),
      createdAt: new Date(t0.getTime() + 60_000),
    });
    await store.persistWorkflowSnapshot({
      workflowName: 'other',
      runId: 'r3',
      snapshot: snapshotOf('r3', 'suspended'),
      createdAt: new Date(t0.getTime() + 120_000),
    });
    // Saving again keeps the creation time and the resource, and replaces the snapshot.
    await store.persistWorkflowSnapshot({ workflowName: 'w', runId: 'r1', snapshot: snapshotOf('r1', 'success', { a: success(1) }) });

    const loaded = await store.loadWorkflowSnapshot({ workflowName: 'w', runId: 'r1' });
    expect(loaded).toMatchObject({ runId: 'r1', status: 'success', context: { a: { status: 'success', output: 1 } } });
    expect(await store.loadWorkflowSnapshot({ workflowName: 'w', runId: 'nope' })).toBeNull();
    const r1 = await store.getWorkflowRunById({ runId: 'r1' });
    expect(r1).toMatchObject({ workflowName: 'w', runId: 'r1', resourceId: 'ceo', createdAt: t0 });
    expect(r1!.updatedAt.getTime()).toBeGreaterThan(t0.getTime());
    expect(await store.getWorkflowRunById({ runId: 'r3', workflowName: 'w' })).toBeNull();

    const all = await store.listWorkflowRuns();
    expect(all.runs.map((r) => r.runId)).toEqual(['r3', 'r2', 'r1']);
    expect(all.total).toBe(3);
    expect((await store.listWorkflowRuns({ workflowName: 'w' })).runs.map((r) => r.runId)).toEqual(['r2', 'r1']);
    expect((await store.listWorkflowRuns({ status: 'suspended' })).runs.map((r) => r.runId)).toEqual(['r3']);
    expect((await store.listWorkflowRuns({ resourceId: 'ceo' })).runs.map((r) => r.runId)).toEqual(['r1']);
    expect(
      (await store.listWorkflowRuns({ fromDate: new Date(t0.getTime() + 30_000), toDate: new Date(t0.getTime() + 90_000) })).runs.map(
        (r) => r.runId,
      ),
    ).toEqual(['r2']);
    const page1 = await store.listWorkflowRuns({ perPage: 2, page: 1 });
    expect(page1).toMatchObject({ total: 3 });
    expect(page1.runs.map((r) => r.runId)).toEqual(['r1']);
    expect(await store.listWorkflowRuns({ perPage: 2, page: 5 })).toMatchObject({ runs: [], total: 3 });
    expect(await store.listWorkflowRuns({ perPage: 0, page: 0 })).toMatchObject({ runs: [], total: 3 });

    await store.deleteWorkflowRunById({ runId: 'r2', workflowName: 'w' });
    expect(await store.getWorkflowRunById({ runId: 'r2' })).toBeNull();
    await store.dangerouslyClearAll();
    expect((await store.listWorkflowRuns()).total).toBe(0);
  });

  it("keeps the agent loop's own snapshots in memory: found, updated and deleted as any run, never written", async () => {
    const rows = async () =>
      (
        await test.handle.db
          .select()
          .from(mastraWorkflowSnapshots)
          .where(inArray(mastraWorkflowSnapshots.workflowName, ['agentic-loop', 'executionWorkflow']))
      ).length;
    await store.persistWorkflowSnapshot({
      workflowName: 'agentic-loop',
      runId: 'turn-1',
      resourceId: 'u1',
      snapshot: snapshotOf('turn-1', 'pending'),
    });
    await store.persistWorkflowSnapshot({ workflowName: 'executionWorkflow', runId: 'turn-1', snapshot: snapshotOf('turn-1', 'pending') });
    expect(await store.loadWorkflowSnapshot({ workflowName: 'agentic-loop', runId: 'turn-1' })).toMatchObject({ status: 'pending' });
    expect(await store.getWorkflowRunById({ runId: 'turn-1', workflowName: 'executionWorkflow' })).toMatchObject({
      workflowName: 'executionWorkflow',
      runId: 'turn-1',
    });
    expect(
      await store.updateWorkflowResults({
        workflowName: 'agentic-loop',
        runId: 'turn-1',
        stepId: 's',
        result: success(7),
        requestContext: {},
      }),
    ).toMatchObject({ s: { output: 7 } });
    expect(
      await store.updateWorkflowState({
        workflowName: 'agentic-loop',
        runId: 'turn-1',
        opts: { status: 'running', expectedStatus: 'pending' } as never,
      }),
    ).toMatchObject({ status: 'running' });
    expect(await rows()).toBe(0);
    await store.deleteWorkflowRunById({ runId: 'turn-1', workflowName: 'agentic-loop' });
    await store.deleteWorkflowRunById({ runId: 'turn-1', workflowName: 'executionWorkflow' });
    expect(await store.loadWorkflowSnapshot({ workflowName: 'agentic-loop', runId: 'turn-1' })).toBeNull();
    expect(await store.getWorkflowRunById({ runId: 'turn-1', workflowName: 'executionWorkflow' })).toBeNull();
  });

  it('finds runs by the thread kept in a suspended step or the durable loop input', async () => {
    const memoryInfo = { threadId: 'th-1', resourceId: 'u' };
    await store.persistWorkflowSnapshot({
      workflowName: 'agentic',
      runId: 'a1',
      snapshot: snapshotOf('a1', 'suspended', {
        s: { status: 'suspended', suspendPayload: { __streamState: { messageList: { memoryInfo } } } },
      }),
    });
    await store.persistWorkflowSnapshot({
      workflowName: 'agentic',
      runId: 'a2',
      snapshot: { ...snapshotOf('a2', 'running'), context: { input: { messageListState: { memoryInfo } } } } as never,
    });
    await store.persistWorkflowSnapshot({ workflowName: 'agentic', runId: 'a3', snapshot: snapshotOf('a3', 'running') });
    expect((await store.listWorkflowRuns({ threadId: 'th-1' })).runs.map((r) => r.runId).sort()).toEqual(['a1', 'a2']);
    await store.dangerouslyClearAll();
  });

  it('merges concurrent step results without losing any, and updates state only from the expected status', async () => {
    await store.persistWorkflowSnapshot({ workflowName: 'w', runId: 'c1', snapshot: snapshotOf('c1', 'running') });
    // Twenty parallel writers (separate connections on the server): every result survives.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.updateWorkflowResults({
          workflowName: 'w',
          runId: 'c1',
          stepId: `s${i}`,
          result: success(i),
          requestContext: { [`k${i}`]: i },
        }),
      ),
    );
    const merged = (await store.loadWorkflowSnapshot({ workflowName: 'w', runId: 'c1' }))!;
    expect(Object.keys(merged.context).filter((k) => k.startsWith('s'))).toHaveLength(20);
    expect(merged.context['s7']).toMatchObject({ output: 7 });
    expect(Object.keys(merged.requestContext ?? {})).toHaveLength(20);
    expect(
      await store.updateWorkflowResults({ workflowName: 'w', runId: 'missing', stepId: 'x', result: success(1), requestContext: {} }),
    ).toEqual({});

    // foreach outputs merge element by element.
    await store.updateWorkflowResults({
      workflowName: 'w',
      runId: 'c1',
      stepId: 'each',
      result: { status: 'running', output: [1, null, null] } as never,
      requestContext: {},
    });
    await store.updateWorkflowResults({
      workflowName: 'w',
      runId: 'c1',
      stepId: 'each',
      result: { status: 'running', output: [null, 2, null] } as never,
      requestContext: {},
    });
    expect((await store.loadWorkflowSnapshot({ workflowName: 'w', runId: 'c1' }))!.context['each']).toMatchObject({ output: [1, 2, null] });

    // Compare-and-set: of ten callers resuming a suspended run at once, exactly one claims it.
    await store.updateWorkflowState({ workflowName: 'w', runId: 'c1', opts: { status: 'suspended' } });
    const claims = await Promise.all(
      Array.from({ length: 10 }, () =>
        store.updateWorkflowState({ workflowName: 'w', runId: 'c1', opts: { status: 'running', expectedStatus: 'suspended' } }),
      ),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(claims.find(Boolean)).toMatchObject({ status: 'running', context: { s7: { output: 7 } } });
    expect(
      await store.updateWorkflowState({
        workflowName: 'w',
        runId: 'c1',
        opts: { status: 'success', expectedStatus: ['suspended', 'waiting'] },
      }),
    ).toBeUndefined();
    expect(await store.updateWorkflowState({ workflowName: 'w', runId: 'missing', opts: { status: 'success' } })).toBeUndefined();
    await store.dangerouslyClearAll();
  });

  it('runs a real Mastra workflow: parallel steps, suspend, resume from another Mastra instance', async () => {
    const counter = { double: 0, square: 0 };
    const build = () => {
      const double = createStep({
        id: 'double',
        inputSchema: z.object({ n: z.number() }),
        outputSchema: z.object({ v: z.number() }),
        execute: async ({ inputData }) => {
          counter.double++;
          return { v: inputData.n * 2 };
        },
      });
      const square = createStep({
        id: 'square',
        inputSchema: z.object({ n: z.number() }),
        outputSchema: z.object({ v: z.number() }),
        execute: async ({ inputData }) => {
          counter.square++;
          return { v: inputData.n ** 2 };
        },
      });
      const approve = createStep({
        id: 'approve',
        inputSchema: z.object({ double: z.object({ v: z.number() }), square: z.object({ v: z.number() }) }),
        resumeSchema: z.object({ ok: z.boolean() }),
        outputSchema: z.object({ total: z.number(), ok: z.boolean() }),
        execute: async ({ inputData, resumeData, suspend }) =>
          resumeData ? { total: inputData.double.v + inputData.square.v, ok: resumeData.ok } : suspend({}),
      });
      const workflow = createWorkflow({
        id: 'sample',
        inputSchema: z.object({ n: z.number() }),
        outputSchema: z.object({ total: z.number(), ok: z.boolean() }),
      })
        .parallel([double, square])
        .then(approve)
        .commit();
      return new Mastra({
        workflows: { sample: workflow },
        storage: new MastraCompositeStore({ id: 't', domains: { workflows: new PostgresWorkflowsStorage(test.handle.db) } }),
        logger: false,
      });
    };
    const first = build();
    const run = await first.getWorkflow('sample').createRun({ runId: 'sample-1', resourceId: 'tester' });
    expect((await run.start({ inputData: { n: 3 } })).status).toBe('suspended');
    expect(await store.getWorkflowRunById({ runId: 'sample-1' })).toMatchObject({
      workflowName: 'sample',
      resourceId: 'tester',
      snapshot: { status: 'suspended' },
    });

    const second = build();
    const again = await second.getWorkflow('sample').createRun({ runId: 'sample-1' });
    const done = await again.resume({ step: 'approve', resumeData: { ok: true } });
    expect(done).toMatchObject({ status: 'success', result: { total: 15, ok: true } });
    expect(counter).toEqual({ double: 1, square: 1 });
    // Resuming the same suspension twice is refused (the claim is a compare-and-set).
    await expect(again.resume({ step: 'approve', resumeData: { ok: true } })).rejects.toThrow();
    expect((await store.loadWorkflowSnapshot({ workflowName: 'sample', runId: 'sample-1' }))!.status).toBe('success');
  });
});
