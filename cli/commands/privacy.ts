import { once } from 'node:events';
import fs from 'node:fs';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import readline from 'node:readline/promises';
import { z } from 'zod';
import { UsageError } from '../../errors/index.ts';
import { applyRetention, consentsOf, parseRetentionSchedule, recordConsent } from '../../privacy/index.ts';
import { TOOLS, actorForEmail, ceoEmail, invokeTool, type ToolName } from '../../tools/index.ts';
import { withRuntime } from '../open-runtime.ts';

// `botcriptofy privacy …`: data-subject requests (LGPD) from an operator. Export and erasure are
// tool calls (privacy_export, privacy_erase) as the person named by --as (default: the CEO), so
// the policy decides and the audit log records them; consent and retention are privacy/'s
// domain functions. Like every door, nothing here reads a table.

const emailSchema = z.email();

function emailOption(name: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${name} is required: the person's email address.`);
  if (!emailSchema.safeParse(value.trim()).success) throw new UsageError(`${name} expects an email address, got "${value}".`);
  return value.trim();
}

/** Calls a privacy tool as --as (default: the CEO); a refusal ends the command with its reason. */
async function callAs<T>(
  tool: ToolName,
  args: Record<string, unknown>,
  as: string | undefined,
  json: boolean | undefined,
  documentSink?: (text: string) => void | Promise<void>,
): Promise<T | undefined> {
  const asEmail = as === undefined ? undefined : emailOption('--as', as);
  return withRuntime(async (runtime) => {
    const who = asEmail ?? (await ceoEmail(runtime.database.db));
    const actor = who ? await actorForEmail(runtime.database.db, who) : undefined;
    if (!actor) throw new UsageError(`No staff member ${who ?? '(no CEO in the database)'}; pass --as EMAIL.`);
    const outcome = await invokeTool(
      TOOLS,
      { db: runtime.database.db, actor, billing: runtime.billing, now: () => new Date(), documentSink },
      tool,
      args,
    );
    if (!outcome.ok) {
      // An email that names no one is what the person typed: a usage error, like any unknown email.
      if (outcome.error === 'not_found' || outcome.error === 'invalid_arguments') throw new UsageError(outcome.message);
      if (json) console.log(JSON.stringify({ ok: false, tool, error: outcome.error, message: outcome.message }));
      console.error(`Error: ${outcome.message}`);
      process.exitCode = 1;
      return undefined;
    }
    if ('pendingApproval' in outcome) {
      console.log(json ? JSON.stringify({ ok: true, pendingApproval: outcome.pendingApproval }) : `Not done yet: ${outcome.message}`);
      return undefined;
    }
    return outcome.result as T;
  });
}

const approvalIdSchema = z.uuid();

export async function privacyExportCommand(options: {
  email?: string;
  approval?: string;
  out?: string;
  json?: boolean;
  as?: string;
}): Promise<void> {
  if (options.approval !== undefined && options.email !== undefined)
    throw new UsageError(
      '--email and --approval go apart: --email exports a person now, --approval fetches an export an approval made for you.',
    );
  const approvalId = options.approval?.trim();
  if (approvalId !== undefined && !approvalIdSchema.safeParse(approvalId).success)
    throw new UsageError(`--approval expects the approval id (a UUID, as the notification gave it), got "${options.approval}".`);
  const email = approvalId === undefined ? emailOption('--email', options.email) : undefined;
  const out = options.out === undefined ? undefined : path.resolve(options.out);
  if (out && fs.existsSync(out))
    throw new UsageError(`--out ${options.out} already exists; choose a new file (an export is never written over another).`);
  if (out && !fs.existsSync(path.dirname(out)))
    throw new UsageError(`--out ${options.out}: the folder ${path.dirname(out)} does not exist.`);
  // The document goes to the file (or, with --json alone, to stdout) piece by piece as it is read.
  const file = out ? fs.createWriteStream(out, { flags: 'wx', mode: 0o600 }) : undefined; // personal data: this user only
  const target = file ?? (options.json ? process.stdout : undefined);
  const sink = target
    ? async (text: string) => {
        if (!target.write(text)) await once(target, 'drain');
      }
    : undefined;
  let result: { summary: string; counts: Record<string, number> } | undefined;
  let fetched: { document: string; sha256: string; bytes: number; createdAt: string } | undefined;
  try {
    if (approvalId !== undefined)
      fetched = await callAs<{ document: string; sha256: string; bytes: number; createdAt: string }>(
        'privacy_export_document',
        { approvalId },
        options.as,
        options.json,
        sink,
      );
    else
      result = await callAs<{ summary: string; counts: Record<string, number> }>(
        'privacy_export',
        { email },
        options.as,
        options.json,
        sink,
      );
  } finally {
    if (file) {
      file.end();
      await finished(file);
      // Refused or waiting for an approval: no document, so no file.
      if (!result && !fetched) fs.rmSync(out!, { force: true });
    }
  }
  if (fetched) {
    if (options.json && !out) return;
    if (options.json) return void console.log(JSON.stringify({ ok: true, file: out, ...fetched }));
    console.log(
      out
        ? `The export ${fetched.document} (made ${fetched.createdAt}, ${fetched.bytes} bytes, SHA-256 ${fetched.sha256}) is in ${out} (mode 600).`
        : `The export ${fetched.document} (made ${fetched.createdAt}, ${fetched.bytes} bytes) is kept for you; --out FILE writes it, --json prints it.`,
    );
    return;
  }
  if (!result) return;
  if (options.json && !out) return;
  if (options.json) {
    console.log(JSON.stringify({ ok: true, file: out, counts: result.counts, summary: result.summary }));
    return;
  }
  console.log(result.summary);
  const rows = Object.values(result.counts).reduce((sum, n) => sum + n, 0);
  console.log(
    out
      ? `\nThe whole document (${rows} rows) is in ${out} (mode 600).`
      : `\n${rows} rows in all; --out FILE writes the whole document, --json prints it.`,
  );
}

export async function privacyEraseCommand(options: { email?: string; yes?: boolean; json?: boolean; as?: string }): Promise<void> {
  const email = emailOption('--email', options.email);
  if (!options.yes) {
    if (!process.stdin.isTTY) throw new UsageError('An erasure cannot be undone: pass --yes to confirm it (no terminal to ask on).');
    const prompt = readline.createInterface({ input: process.stdin, output: process.stdout });
    const typed = await prompt.question(
      `This erases the personal data of ${email} for good (money records are kept under a pseudonym). Type the email again to confirm: `,
    );
    prompt.close();
    if (typed.trim().toLowerCase() !== email.toLowerCase())
      throw new UsageError('Not confirmed: the email typed does not match; nothing was erased.');
  }
  const result = await callAs<{
    pseudonym: string;
    pseudonymEmail: string;
    personFound: boolean;
    stoppedBots: number;
    deletedExchangeKeys: number;
    pseudonymised: Record<string, number>;
    deleted: Record<string, number>;
    redactedAuditRows: number;
    auditId: number;
  }>('privacy_erase', { email }, options.as, options.json);
  if (!result) return;
  if (options.json) {
    console.log(JSON.stringify({ ok: true, ...result }));
    return;
  }
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([table, n]) => `${table} ${n}`)
      .join(', ') || 'none';
  console.log(
    result.personFound
      ? `Erased ${email}: now ${result.pseudonym} (${result.pseudonymEmail}).`
      : `No account, customer or lead holds ${email}: only what was left of it (audit rows, sign-in attempts, mentions) was erased, as ${result.pseudonym}.`,
  );
  console.log(`Bots stopped first: ${result.stoppedBots}; exchange keys deleted: ${result.deletedExchangeKeys}.`);
  console.log(`Pseudonymised: ${list(result.pseudonymised)}.`);
  console.log(`Deleted: ${list(result.deleted)}.`);
  console.log(
    `Audit rows redacted: ${result.redactedAuditRows}; the erasure is audit row ${result.auditId} (\`botcriptofy audit verify\` still passes).`,
  );
}

export async function privacyConsentCommand(options: {
  email?: string;
  kind?: string;
  textVersion?: string;
  withdraw?: boolean;
  json?: boolean;
}): Promise<void> {
  const email = emailOption('--email', options.email);
  await withRuntime(async ({ database }) => {
    if (options.kind !== undefined || options.textVersion !== undefined) {
      if (options.kind !== 'terms' && options.kind !== 'marketing')
        throw new UsageError(`--kind must be terms or marketing, got "${options.kind ?? ''}".`);
      if (!options.textVersion)
        throw new UsageError('--text-version is required with --kind: the version of the text agreed to (e.g. v3).');
      await recordConsent(database.db, {
        email,
        kind: options.kind,
        version: options.textVersion,
        granted: !options.withdraw,
        source: 'cli',
      }).catch((error: { category?: string; message: string }) => {
        throw error.category === 'not_found' ? new UsageError(error.message) : error;
      });
    }
    const consents = await consentsOf(database.db, email).catch((error: { category?: string; message: string }) => {
      throw error.category === 'not_found' ? new UsageError(error.message) : error;
    });
    if (options.json) return void console.log(JSON.stringify(consents));
    if (consents.history.length === 0) return void console.log(`No consent recorded for ${email}.`);
    for (const c of consents.history)
      console.log(`${c.recordedAt}  ${c.kind.padEnd(9)} ${c.version.padEnd(10)} ${c.granted ? 'given' : 'withdrawn'} (${c.source})`);
  });
}

export async function privacyRetentionCommand(options: { json?: boolean }): Promise<void> {
  await withRuntime(async ({ config, database }) => {
    const schedule = parseRetentionSchedule(config.retention);
    const removed = await applyRetention(database.db, schedule, new Date());
    if (options.json) return void console.log(JSON.stringify({ schedule, removed }));
    console.log(
      `Retention (${schedule.agentConversationsDays} days of agent conversations, ${schedule.securityEventsDays} of security events, ${schedule.unconvertedLeadsDays} of leads not converted): removed ${removed.agentMessages} agent message(s), ${removed.agentThreads} conversation(s), ${removed.securityEvents} security event(s), ${removed.unconvertedLeads} lead(s).`,
    );
  });
}
