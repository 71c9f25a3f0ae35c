import { TOOLS, actorForEmail, ceoEmail, decideApproval, listPendingApprovals } from '../../tools/index.ts';
import { withRuntime } from '../runtime.ts';
import { UsageError } from './data.ts';

export async function approvalsListCommand(options: { json?: boolean }): Promise<void> {
  await withRuntime(async ({ database }) => {
    const pending = await listPendingApprovals(database.db);
    if (options.json) {
      console.log(JSON.stringify(pending.map((a) => ({ id: a.id, tool: a.tool, summary: a.summary, approverDepartment: a.approverDepartment, requestedAt: a.createdAt.toISOString(), expiresAt: a.expiresAt.toISOString() }))));
      return;
    }
    if (pending.length === 0) {
      console.log('No pending approvals.');
      return;
    }
    for (const a of pending) console.log(`${a.id}  ${a.approverDepartment.padEnd(13)} ${a.tool.padEnd(16)} ${a.summary}`);
  });
}

export async function approvalsDecideCommand(decision: 'approve' | 'reject', id: string, options: { as?: string; note?: string }): Promise<void> {
  await withRuntime(async ({ database, billing }) => {
    const email = options.as ?? (await ceoEmail(database.db));
    const decider = email ? await actorForEmail(database.db, email) : undefined;
    if (!decider) throw new UsageError(`No staff member ${email ?? '(no CEO in the database)'}; pass --as EMAIL.`);
    const result = await decideApproval(TOOLS, { db: database.db, billing, now: () => new Date() }, decider, id, decision, options.note);
    if (!result.decided) {
      console.log(`Not decided: ${result.reason}`);
      process.exitCode = 1;
      return;
    }
    const detail = result.outcome && !result.outcome.ok ? `: ${result.outcome.message}` : '';
    console.log(`Approval ${id} ${result.status} by ${decider.name}${detail}`);
    if (result.status === 'failed') process.exitCode = 1;
  });
}
