import {
  TOOLS,
  actorForEmail,
  ceoEmail,
  decideApproval,
  failureReason,
  listFailedApprovals,
  listPendingApprovals,
  retryApproval,
} from '../../tools/index.ts';
import { withRuntime } from '../open-runtime.ts';
import { UsageError } from '../../errors/index.ts';

export async function approvalsListCommand(options: { json?: boolean; failed?: boolean }): Promise<void> {
  await withRuntime(async ({ database }) => {
    const rows = options.failed ? await listFailedApprovals(database.db) : await listPendingApprovals(database.db);
    if (options.json) {
      console.log(
        JSON.stringify(
          rows.map((a) => ({
            id: a.id,
            status: a.status,
            tool: a.tool,
            summary: a.summary,
            approverDepartment: a.approverDepartment,
            requestedAt: a.createdAt.toISOString(),
            expiresAt: a.expiresAt.toISOString(),
            ...(options.failed ? { failedAt: a.executedAt?.toISOString() ?? null, error: failureReason(a) } : {}),
          })),
        ),
      );
      return;
    }
    if (rows.length === 0) {
      console.log(options.failed ? 'No failed approvals waiting for a retry.' : 'No pending approvals.');
      return;
    }
    for (const a of rows) {
      console.log(`${a.id}  ${a.approverDepartment.padEnd(13)} ${a.tool.padEnd(16)} ${a.summary}`);
      if (options.failed)
        console.log(
          `${' '.repeat(38)}failed: ${failureReason(a) ?? 'unknown'} — fix the cause, then \`botcriptofy approvals retry ${a.id}\``,
        );
    }
  });
}

export async function approvalsDecideCommand(
  decision: 'approve' | 'reject' | 'retry',
  id: string,
  options: { as?: string; note?: string },
): Promise<void> {
  await withRuntime(async ({ database, billing }) => {
    const email = options.as ?? (await ceoEmail(database.db));
    const decider = email ? await actorForEmail(database.db, email) : undefined;
    if (!decider) throw new UsageError(`No staff member ${email ?? '(no CEO in the database)'}; pass --as EMAIL.`);
    const ctx = { db: database.db, billing, now: () => new Date() };
    const result =
      decision === 'retry'
        ? await retryApproval(TOOLS, ctx, decider, id, options.note)
        : await decideApproval(TOOLS, ctx, decider, id, decision, options.note);
    if (!result.decided) {
      console.log(`Not decided: ${result.reason}`);
      process.exitCode = 1;
      return;
    }
    const detail = result.outcome && !result.outcome.ok ? `: ${result.outcome.message}` : '';
    console.log(`Approval ${id} ${result.status} by ${decider.name}${decision === 'retry' ? ' (retried)' : ''}${detail}`);
    if (result.status === 'failed') process.exitCode = 1;
  });
}
