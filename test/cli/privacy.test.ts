import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../db/index.ts';
import { emailLookupDigest, usePrivacyLookupKey } from '../../privacy/index.ts';
import { testDrivers } from '../support/databases.ts';
import { seededCliCompany } from '../support/seeded-cli.ts';

// `botcriptofy privacy export | erase | consent | retention` on both drivers (issue 18), run
// through the same main() as the binary.

const MASTER_KEY = 'cd'.repeat(32);

describe.each(testDrivers)('botcriptofy privacy on %s', { timeout: 300_000 }, (driver) => {
  const company = seededCliCompany(driver, { name: 'privacy', masterKey: MASTER_KEY });
  const { cli, ok, tmp } = company;
  let trader: string;
  beforeAll(() => {
    trader = company.trader;
  });

  it('exports to a new file (mode 600) with a summary; refuses a bad or unknown email with exit 2', async () => {
    const out = path.join(tmp, 'person.json');
    const result = ok(await cli('privacy', 'export', '--email', trader, '--out', out));
    expect(result.stdout).toContain(`Data held about ${trader}`);
    expect(result.stdout).toMatch(/Trading: 1 bot\(s\)|Trading: \d+ bot\(s\)/);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const document = JSON.parse(fs.readFileSync(out, 'utf8')) as { format: string; counts: Record<string, number> };
    expect(document.format).toBe('botcriptofy.person-export/2');
    // The file holds the whole document as the summary counted it.
    expect((document as unknown as { data: Record<string, { rows: unknown[] }> }).data.bots!.rows.length).toBe(document.counts.bots);
    expect(document.counts.bots).toBeGreaterThan(0);
    // Never over an existing file.
    const again = await cli('privacy', 'export', '--email', trader, '--out', out);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    const json = JSON.parse(ok(await cli('privacy', 'export', '--email', trader, '--json')).stdout) as { subject: { email: string } };
    expect(json.subject.email).toBe(trader);
    const unknown = await cli('privacy', 'export', '--email', 'nobody@example.com');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No person with the email nobody@example.com');
    // The operator is told the address; the audit log keeps only its keyed digest (privacy/lookup.ts).
    const database = await company.open();
    try {
      const rows = await queryRows<{ args: string | null; details: string | null }>(
        database.db,
        sql`select args::text as args, details::text as details from audit_log where tool = 'privacy_export' and outcome = 'denied'`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.args).toMatch(/^\{"email": ?"email-hmac:[0-9a-f]{32}"\}$/);
      // Keyed by the deployment's master key (MASTER_KEY, or the embedded demo's data/master.key): not computable from the log alone.
      const keyFile = path.join(tmp, 'data', 'master.key');
      const master = driver === 'postgres' ? MASTER_KEY : fs.readFileSync(keyFile, 'utf8').trim();
      usePrivacyLookupKey(Buffer.from(master, 'hex'));
      expect(JSON.parse(rows[0]!.args!)).toEqual({ email: emailLookupDigest('nobody@example.com') });
      usePrivacyLookupKey(undefined);
      expect(rows[0]!.details).toContain('no account, customer or lead holds the email');
      const naming = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from audit_log where strpos(lower(coalesce(args::text, '') || coalesce(details::text, '')), 'nobody@example.com') > 0`,
      );
      expect(naming[0]!.n).toBe(0);
    } finally {
      await database.close();
    }
    const malformed = await cli('privacy', 'export', '--email', 'nobody');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--email expects an email address, got "nobody"');
  });

  it('fetches the export an approved agent request stored for the person who asked (--approval), for them alone', async () => {
    const database = await company.open();
    let member: string;
    let head: string;
    try {
      const staffEmail = async (role: string) =>
        (
          await queryRows<{ email: string }>(
            database.db,
            sql`select u.email from staff s join users u on u.id = s.user_id where s.department = 'security' and s.role = ${role} order by u.email limit 1`,
          )
        )[0]!.email;
      member = await staffEmail('member');
      head = await staffEmail('head');
    } finally {
      await database.close();
    }
    const turn = JSON.parse(
      ok(await cli('ask', 'security', `exporte os dados de ${trader}`, '--as', member, '--offline', '--json')).stdout,
    ) as { actions: { tool: string; status: string; approvalId: string }[] };
    expect(turn.actions).toMatchObject([{ tool: 'privacy_export', status: 'awaiting_approval' }]);
    const approvalId = turn.actions[0]!.approvalId;
    ok(await cli('approvals', 'approve', approvalId, '--as', head));
    const out = path.join(tmp, 'delivered.json');
    const fetched = ok(await cli('privacy', 'export', '--approval', approvalId, '--out', out, '--as', member));
    expect(fetched.stdout).toContain(`The export privacy-export-${approvalId}`);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const document = JSON.parse(fs.readFileSync(out, 'utf8')) as { format: string; subject: { email: string } };
    expect(document).toMatchObject({ format: 'botcriptofy.person-export/2', subject: { email: trader } });
    // Anyone else — the head who approved it, the CLI's default (the CEO) — is refused (exit 1), and no file is left.
    const other = path.join(tmp, 'not-theirs.json');
    const refused = await cli('privacy', 'export', '--approval', approvalId, '--out', other, '--as', head);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Only the person who asked for this export may fetch it.');
    expect(fs.existsSync(other)).toBe(false);
    expect((await cli('privacy', 'export', '--approval', approvalId)).code).toBe(1);
    const both = await cli('privacy', 'export', '--approval', approvalId, '--email', trader);
    expect(both.code).toBe(2);
    expect((await cli('privacy', 'export', '--approval', 'nope')).code).toBe(2);
  });

  it('records consents with their version; applies the retention schedule', async () => {
    ok(await cli('privacy', 'consent', '--email', trader, '--kind', 'terms', '--text-version', 'v3'));
    ok(await cli('privacy', 'consent', '--email', trader, '--kind', 'marketing', '--text-version', '2026-11', '--withdraw'));
    const consents = JSON.parse(ok(await cli('privacy', 'consent', '--email', trader, '--json')).stdout) as {
      current: { kind: string; version: string; granted: boolean; source: string }[];
    };
    expect(consents.current).toMatchObject([
      { kind: 'terms', version: 'v3', granted: true, source: 'cli' },
      { kind: 'marketing', version: '2026-11', granted: false, source: 'cli' },
    ]);
    const bad = await cli('privacy', 'consent', '--email', trader, '--kind', 'cookies', '--text-version', 'v1');
    expect(bad.code).toBe(2);
    const retention = JSON.parse(ok(await cli('privacy', 'retention', '--json')).stdout) as { schedule: Record<string, number> };
    expect(retention.schedule).toEqual({ agentConversationsDays: 180, securityEventsDays: 365, unconvertedLeadsDays: 730 });
  });

  it('erases only with --yes; afterwards the email names no one and audit verify passes', async () => {
    const unconfirmed = await cli('privacy', 'erase', '--email', trader);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('pass --yes');
    const erased = JSON.parse(ok(await cli('privacy', 'erase', '--email', trader, '--yes', '--json')).stdout) as {
      pseudonymEmail: string;
      redactedAuditRows: number;
    };
    expect(erased.pseudonymEmail).toMatch(/^erased-[0-9a-f]{12}@erased\.invalid$/);
    expect(erased.redactedAuditRows).toBeGreaterThan(0);
    expect((await cli('privacy', 'export', '--email', trader)).code).toBe(2);
    const after = JSON.parse(ok(await cli('privacy', 'export', '--email', erased.pseudonymEmail, '--json')).stdout) as unknown;
    expect(JSON.stringify(after)).not.toContain(trader);
    expect(ok(await cli('audit', 'verify')).stdout).toContain('Audit chain OK');
  });
});
