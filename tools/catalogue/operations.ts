import { z } from 'zod';
import { ToolRefusal } from '../scope.ts';
import { defineTool } from '../types.ts';

// The deployment's own state for the people who run it: which processes tick the bots, the job
// queues, bots by status, the market feeds. The reading is workers/' (readDeploymentStatus,
// also `botcriptofy status`), handed in by the door as `ctx.operations`.

const queueCounts = z.object({ waiting: z.number(), delayed: z.number(), active: z.number(), completed: z.number(), failed: z.number() });

export const deploymentStatusSchema = z.object({
  jobs: z.enum(['bullmq', 'in-process']),
  tickIntervalS: z.number(),
  workers: z.array(z.object({ workerId: z.string(), lastSeenMs: z.number(), alive: z.boolean(), bots: z.number() })),
  /** null: an in-process queue (inside the running `start`; its /metrics has the depth). */
  queues: z.record(z.string(), queueCounts.nullable()),
  bots: z.record(z.string(), z.number()),
  runningBotsNotTicked: z.number(),
  feeds: z.array(
    z.object({
      exchange: z.string(),
      symbol: z.string(),
      timeframe: z.string(),
      lastBarOpenMs: z.number().nullable(),
      lastBarAgeMs: z.number().nullable(),
      stale: z.boolean(),
    }),
  ),
  staleFeeds: z.number(),
});

export const operationsTools = [
  defineTool({
    name: 'system_status',
    description: 'Workers ticking bots, job queues, bots by status and market feeds of this deployment, now.',
    domain: 'settings',
    effect: 'read',
    access: { departments: ['settings', 'security'] },
    input: z.strictObject({}),
    output: deploymentStatusSchema,
    async execute(ctx) {
      if (!ctx.operations) throw new ToolRefusal('unavailable', "The deployment's status is not reachable from here.");
      return deploymentStatusSchema.parse(await ctx.operations.deploymentStatus());
    },
  }),
];
