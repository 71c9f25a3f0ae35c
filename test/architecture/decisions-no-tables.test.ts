import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tableImportOffences } from '../support/table-imports.ts';
import { rel, ROOT, sourceFiles } from '../support/source-files.ts';

// Decisions never read or write tables themselves (issue 20): a workflow step acts through the
// tool layer (invokeTool: typed, permission-checked, audited) or a domain function of the folder
// that owns the rows — trading/ (bots, backtests, exchange accounts), billing/ (invoices),
// identity/ and db/ helpers (people, staff, settings), tools/approvals.ts (approvals: asked with
// requestApproval, found again with findApprovalFor / findFreezeRequest), audit/ (appendAuditOnce).
// A file under workflows/ (or agents/ and jobs/, the other decisions, clean already) may import
// functions and types from db/, but no table object and no drizzle-orm query builder. The same
// static scan as doors-no-tables.test.ts, for the decisions — and for workers/, the processes
// that run them: the bot worker holds locks and the schedule, and claims bots and tick slots
// through trading/'s ownership functions (trading/runner/ownership.ts).

const DECISIONS = ['agents/', 'jobs/', 'workflows/', 'workers/'];

/**
 * Files still reading tables while their reads move behind domain functions, each with why.
 * Each entry must still offend (a clean file comes off the list, so it can only shrink).
 */
const PENDING: ReadonlyMap<string, string> = new Map([]);

const decisionFiles = DECISIONS.flatMap((folder) => sourceFiles(path.join(ROOT, folder))).map((file) => ({ file, name: rel(file) }));

describe('decisions never read tables (issue 20)', () => {
  it('finds the decisions’ files', () => {
    expect(decisionFiles.length).toBeGreaterThan(15);
    for (const name of [
      'workflows/bot-onboarding.ts',
      'workflows/incident-response.ts',
      'workflows/dunning.ts',
      'workflows/runs.ts',
      'agents/turn.ts',
      'workers/bot-worker.ts',
    ])
      expect(decisionFiles.map((f) => f.name)).toContain(name);
  });

  it('no file under agents/, jobs/, workflows/ or workers/ imports a table or a query builder (but the pending ones)', async () => {
    const offences: string[] = [];
    const stillPending: string[] = [];
    for (const { file, name } of decisionFiles) {
      const found = await tableImportOffences(name, fs.readFileSync(file, 'utf8'));
      if (PENDING.has(name)) {
        if (found.length > 0) stillPending.push(name);
        continue;
      }
      offences.push(...found.map((offence) => `${name} ${offence}`));
    }
    expect(offences).toEqual([]);
    expect(stillPending.sort(), 'files in PENDING that read no table any more: take them off the list').toEqual([...PENDING.keys()].sort());
  });

  it('the scan catches a step that reads or writes a table', async () => {
    // bot-onboarding's imports before issue 20's last step: it read users, exchange accounts,
    // backtests and bots, and inserted its approval rows itself.
    const before = [
      "import { and, desc, eq, gte, sql } from 'drizzle-orm';",
      "import { approvals, backtestResults, backtests, bots, exchangeAccounts, tenantScope, users } from '../db/index.ts';",
      "import type { SQL } from 'drizzle-orm';",
      "const lazy = await import('../db/schema/index.ts');",
    ].join('\n');
    expect(await tableImportOffences('workflows/bot-onboarding.ts', before)).toEqual([
      'imports drizzle-orm (and, desc, eq, gte, sql): query builders belong in a domain module',
      'imports the tables approvals, backtestResults, backtests, bots, exchangeAccounts, users from db/index.ts',
      expect.stringMatching(/^imports the tables .*\binvoices\b.* from db\/schema\/index\.ts$/),
    ]);
    // Functions and types from db/ (and a type from drizzle-orm) are fine.
    expect(
      await tableImportOffences(
        'workflows/runs.ts',
        "import { PostgresWorkflowsStorage, tenantScope, type Database } from '../db/index.ts';\n",
      ),
    ).toEqual([]);
  });
});
