import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { listStaff, openDatabase, queryRows } from '../../db/index.ts';
import { FOUR_EYES_SETTING, invokeTool, staffActor, TOOLS } from '../../tools/index.ts';
import { runCli, runCliHere } from '../support/cli.ts';

// Four-eyes through the CLI door (issue 21): `approvals approve ID --as REQUESTER` is refused
// with the rule (exit 1, nothing runs, audited); another person who may decide it executes it.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-cli-four-eyes-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
const env = { DATA_DIR: dataDir, LOG_LEVEL: 'error' };

describe('botcriptofy approvals with four-eyes', { timeout: 300_000 }, () => {
  let approvalId: string;
  let head: { email: string; userId: string };
  let ceoEmail: string;

  beforeAll(async () => {
    const seeded = await runCli(['seed', '--demo', '--traders', '4', '--as-of', '2026-11-01'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    const handle = await openDatabase({ dataDir });
    try {
      const people = await listStaff(handle.db);
      const headRow = people.find((m) => m.department === 'settings' && m.role === 'head')!;
      head = { email: headRow.email, userId: headRow.userId };
      ceoEmail = people.find((m) => m.role === 'ceo')!.email;
      await handle.db.insert(db.configEntries).values({ key: FOUR_EYES_SETTING, value: { set_config: true } });
      const asked = await invokeTool(
        TOOLS,
        {
          db: handle.db,
          billing: new BillingService(handle.db, undefined),
          now: () => new Date(),
          actor: staffActor(headRow),
          agent: 'settings',
        },
        'set_config',
        { key: 'risk.stop_loss_pct', value: 7.5, reason: 'teste dos quatro olhos' },
      );
      approvalId = (asked as { pendingApproval: { id: string } }).pendingApproval.id;
    } finally {
      await handle.close();
    }
  });

  it("refuses the requester's own approval and executes another decider's", async () => {
    const own = await runCliHere(['approvals', 'approve', approvalId, '--as', head.email], env);
    expect(own.code).toBe(1);
    expect(own.stdout.trim()).toBe('Not decided: You asked for this yourself: another person who may decide it must (four-eyes).');
    const other = await runCliHere(['approvals', 'approve', approvalId, '--as', ceoEmail], env);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toMatch(new RegExp(`^Approval ${approvalId} executed by `));
    const again = await runCliHere(['approvals', 'approve', approvalId, '--as', ceoEmail], env);
    expect(again.code).toBe(1);
    const handle = await openDatabase({ dataDir });
    try {
      const [row] = await queryRows<{ runs: number; refusals: number }>(
        handle.db,
        sql`select count(*) filter (where actor_id = ${`system:approval:${approvalId}`} and tool = 'set_config')::int as runs,
                   count(*) filter (where action = 'approval.decide' and outcome = 'denied' and details->>'reason' = 'four_eyes'
                                    and actor_id = ${head.userId})::int as refusals
            from audit_log`,
      );
      expect(row).toEqual({ runs: 1, refusals: 1 });
    } finally {
      await handle.close();
    }
  });
});
