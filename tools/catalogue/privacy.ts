import { z } from 'zod';
import { and, eq } from 'drizzle-orm';
import { approvals, companyTenantId, consentKinds, departments, documents, documentVersions, staff, users } from '../../db/index.ts';
import { enqueueNotification } from '../../notifications/index.ts';
import {
  CONSENT_DOCUMENTS,
  consentStatus,
  emailLookupDigest,
  erasePerson,
  exportPersonData,
  findDataSubject,
  recordErasure,
  recordOwnConsent,
  storedPersonExport,
  storePersonExport,
  type PersonExport,
  writePersonExport,
} from '../../privacy/index.ts';
import { ToolRefusal } from '../scope.ts';
import { defineTool, type Actor, type ToolContext } from '../types.ts';

// Data-subject requests (LGPD): a copy of everything about a person, and their erasure. The
// Security and Documents departments (and the CEO and admins) may ask about anyone; a trader only
// about themselves. (Staff of other departments ask Security: opening the tools to every
// department would also open the Security and Documents agents to them, agents/access.ts.)
// Asked through an agent, both wait for the Security head or the CEO to approve, as any action on
// a person's data would; so does a person's request to erase themselves (nobody erases the
// account they are acting with).

const personInput = z.strictObject({ email: z.email() });

/** Who may ask about another person's data (the CEO and admins may ask about anyone). */
const ASKING_ABOUT_OTHERS = ['security', 'documents'] as const;

/** Whether `email` is the signed-in person's own (the system, running an approved request, is nobody). */
async function isOwnEmail(ctx: ToolContext, email: string): Promise<boolean> {
  if (ctx.actor.kind === 'system') return false;
  const [own] = await ctx.db.select({ email: users.email }).from(users).where(eq(users.id, ctx.actor.userId));
  return own !== undefined && own.email.toLowerCase() === email.toLowerCase();
}

/** Refuses a trader's request about another person (staff reach these tools only in Security, Documents, as the CEO or an admin). */
async function requireMayAsk(ctx: ToolContext, email: string): Promise<void> {
  const actor = ctx.actor;
  if (actor.kind === 'system' || (await isOwnEmail(ctx, email))) return;
  if (actor.kind === 'staff' && (actor.role === 'ceo' || actor.role === 'admin' || actor.department === 'ceo')) return;
  if (actor.kind === 'staff' && (ASKING_ABOUT_OTHERS as readonly string[]).includes(actor.department)) return;
  throw new ToolRefusal(
    'forbidden',
    "A trader may ask only for their own data; another person's is asked of the Security or Documents department.",
  );
}

/** A request through an agent needs a person's decision; a person at a door (the CLI, the API) is that person. */
const throughAnAgent = async (ctx: ToolContext, input: { email: string }) => {
  await requireMayAsk(ctx, input.email);
  return ctx.agent !== undefined;
};

/** What the audit log keeps of a refusal because no one holds the email (the address itself is in no row: emailLookupDigest). */
const NOBODY_HOLDS_IT = 'no account, customer or lead holds the email asked about';

/** The tenant an approval of a request about `email` belongs to: the person's own, or the company's. */
async function requestTenant(ctx: ToolContext, input: { email: string }): Promise<string> {
  const subject = await findDataSubject(ctx.db, input.email).catch(() => undefined);
  if (!subject) throw new ToolRefusal('not_found', `No person with the email ${input.email}.`, { auditReason: NOBODY_HOLDS_IT });
  const tenant = subject.ownTenantId ?? (await companyTenantId(ctx.db));
  if (!tenant) throw new ToolRefusal('not_found', 'No company in the database.');
  return tenant;
}

/**
 * An erasure's approval is never decided by the person who asked for it, nor by the person to be
 * erased (who could otherwise approve their own erasure, or block it), whatever the four-eyes
 * setting says.
 */
async function erasureConflict(
  ctx: Omit<ToolContext, 'actor'>,
  approval: { readonly requestedByUserId: string | null; readonly input: { email: string } },
  decider: Actor,
): Promise<string | null> {
  if (decider.kind === 'system') return null;
  if (approval.requestedByUserId === decider.userId)
    return 'You asked for this erasure yourself: another person who may decide it (the Security head or the CEO) must.';
  const [own] = await ctx.db.select({ email: users.email }).from(users).where(eq(users.id, decider.userId));
  if (own && own.email.toLowerCase() === approval.input.email.toLowerCase())
    return 'This erasure is of your own data: another person who may decide it (the Security head or the CEO) must.';
  return null;
}

// Traders too, for their own data only (requireMayAsk).
const access = { departments: ['security', 'documents'] as const, traders: true } as const;

export const privacyExportOutputSchema = z.object({
  email: z.string(),
  summary: z.string(),
  counts: z.record(z.string(), z.number()),
  /** The whole document (format botcriptofy.person-export/2); absent when the door took it piece by piece (ctx.documentSink), or when it was delivered. */
  document: z.custom<PersonExport>((value) => typeof value === 'object' && value !== null).optional(),
  /** Run on approval: the document was stored for the person who asked, and they were told how to fetch it. */
  delivered: z
    .object({
      approvalId: z.uuid(),
      /** The stored document's slug (privacy/delivery.ts). */
      document: z.string(),
      sha256: z.string(),
      bytes: z.number(),
      /** The requester's user id. */
      to: z.string(),
    })
    .optional(),
});

/**
 * An export approved after the conversation that asked for it: stored for the requester (their
 * document, privacy/delivery.ts) and announced to them with how to fetch it, in one transaction.
 */
async function deliverExport(
  ctx: ToolContext,
  email: string,
  approval: { readonly id: string; readonly requestedByUserId: string },
): Promise<z.output<typeof privacyExportOutputSchema>> {
  const [requester] = await ctx.db
    .select({ tenantId: users.tenantId, staffId: staff.id, department: staff.department })
    .from(users)
    .leftJoin(staff, eq(staff.userId, users.id))
    .where(eq(users.id, approval.requestedByUserId));
  if (!requester) throw new ToolRefusal('not_found', 'The person who asked for this export has no account any more; nothing was made.');
  const stored = await refusingUnknown(() =>
    storePersonExport(ctx.db, {
      approvalId: approval.id,
      email,
      authorStaffId: requester.staffId,
      department: requester.department,
      now: ctx.now,
      alongside: async (tx, made) => {
        await enqueueNotification(tx, {
          tenantId: requester.tenantId,
          to: { userId: approval.requestedByUserId },
          type: 'privacy_export_ready',
          payload: { approvalId: approval.id, document: made.slug, rows: Object.values(made.head.counts).reduce((sum, n) => sum + n, 0) },
          dedupeKey: `privacy-export:${approval.id}`,
        });
      },
    }),
  );
  return {
    email: stored.head.subject.email,
    summary: stored.head.summary,
    counts: stored.head.counts,
    delivered: {
      approvalId: approval.id,
      document: stored.slug,
      sha256: stored.sha256,
      bytes: stored.bytes,
      to: approval.requestedByUserId,
    },
  };
}

export const privacyEraseOutputSchema = z.object({
  pseudonym: z.string(),
  pseudonymEmail: z.string(),
  /** False when the email named no account, customer or lead: only its traces were erased. */
  personFound: z.boolean(),
  stoppedBots: z.number(),
  deletedExchangeKeys: z.number(),
  pseudonymised: z.record(z.string(), z.number()),
  deleted: z.record(z.string(), z.number()),
  redactedAuditRows: z.number(),
  auditId: z.number(),
});

/** The arguments with their email replaced by its keyed digest (privacy/lookup.ts). */
function withEmailDigest(args: unknown): unknown {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return args;
  const email = (args as { email?: unknown }).email;
  return typeof email === 'string' ? { ...args, email: emailLookupDigest(email) } : args;
}

async function refusingUnknown<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const category = (error as { category?: string }).category;
    if (category === 'not_found') throw new ToolRefusal('not_found', (error as Error).message, { auditReason: NOBODY_HOLDS_IT });
    if (category === 'forbidden') throw new ToolRefusal('forbidden', (error as Error).message);
    throw error;
  }
}

export const privacyTools = [
  defineTool({
    name: 'privacy_export',
    description: 'Export all the data held about one person, by email (LGPD copy): a JSON document and a summary.',
    domain: 'security',
    // It changes nothing, but it hands a person's data over: reported and approved as an action.
    effect: 'write',
    access: { departments: [...access.departments], traders: access.traders },
    approverDepartment: 'security',
    input: personInput,
    output: privacyExportOutputSchema,
    summarize: (input, locale) =>
      locale === 'en' ? `Export the personal data of ${input.email} (LGPD)` : `Exportar os dados pessoais de ${input.email} (LGPD)`,
    tenantOf: requestTenant,
    needsApproval: throughAnAgent,
    // A request that did not go through (an email no one holds, a trader asking about someone
    // else) keeps the address only as its keyed digest: the log must not become a list of
    // emails people typed. Done or awaiting approval, it names a person the product holds.
    auditedArgs: (args, outcome) => (outcome === 'denied' || outcome === 'error' ? withEmailDigest(args) : args),
    // The approval row keeps what was handed over, not a second copy of the person's data.
    recordedResult: (output) => ({
      email: output.email,
      summary: output.summary,
      counts: output.counts,
      ...(output.delivered ? { delivered: output.delivered } : {}),
    }),
    async execute(ctx, input) {
      await requireMayAsk(ctx, input.email);
      // Approved: nobody waits at a door for the document; it goes to the person who asked.
      const requestedBy = ctx.approval?.requestedByUserId;
      if (ctx.approval && requestedBy) return deliverExport(ctx, input.email, { id: ctx.approval.id, requestedByUserId: requestedBy });
      const sink = ctx.documentSink;
      if (sink) {
        const head = await refusingUnknown(() => writePersonExport(ctx.db, input.email, sink, { now: ctx.now }));
        return { email: head.subject.email, summary: head.summary, counts: head.counts };
      }
      const document = await refusingUnknown(() => exportPersonData(ctx.db, input.email, { now: ctx.now }));
      return { email: document.subject.email, summary: document.summary, counts: document.counts, document };
    },
  }),
  defineTool({
    name: 'privacy_export_document',
    description: 'Fetch the personal data export an approval stored for you (you asked for it through an agent), by approval id.',
    domain: 'security',
    effect: 'read',
    // Whoever may ask for another person's export through an agent (the CEO and admins too); the requester alone gets it.
    access: { departments: [...access.departments] },
    input: z.strictObject({ approvalId: z.uuid({ error: 'expected the approval id (a UUID) the notification gave' }) }),
    output: z.object({
      approvalId: z.string(),
      document: z.string(),
      title: z.string(),
      sha256: z.string(),
      createdAt: z.string(),
      bytes: z.number(),
      /** The export (JSON text, format botcriptofy.person-export/2); absent when the door took it piece by piece (ctx.documentSink). */
      text: z.string().optional(),
    }),
    async execute(ctx, input) {
      // The approval row itself (tools/approvals.ts is above the catalogue): who asked, and what became of it.
      const [approval] = await ctx.db
        .select({ id: approvals.id, tool: approvals.tool, status: approvals.status, requestedByUserId: approvals.requestedByUserId })
        .from(approvals)
        .where(eq(approvals.id, input.approvalId));
      if (approval?.tool !== 'privacy_export')
        throw new ToolRefusal('not_found', `No export was asked for in approval ${input.approvalId}.`);
      if (ctx.actor.kind === 'system' || approval.requestedByUserId !== ctx.actor.userId)
        throw new ToolRefusal('forbidden', 'Only the person who asked for this export may fetch it.');
      const stored = await storedPersonExport(ctx.db, approval.id);
      if (!stored)
        throw new ToolRefusal(
          'not_found',
          approval.status === 'executed'
            ? `The export of approval ${approval.id} is no longer kept (its person was erased since).`
            : `The export of approval ${approval.id} was not made: the approval is ${approval.status}.`,
        );
      const head = {
        approvalId: approval.id,
        document: stored.slug,
        title: stored.title,
        sha256: stored.sha256,
        createdAt: stored.createdAt.toISOString(),
        bytes: Buffer.byteLength(stored.body),
      };
      if (!ctx.documentSink) return { ...head, text: stored.body };
      await ctx.documentSink(stored.body);
      return head;
    },
  }),
  defineTool({
    name: 'privacy_erase',
    description: "Erase a person's data (LGPD) by email: bots stopped, keys deleted, pseudonymised; money kept.",
    domain: 'security',
    effect: 'write',
    access: { departments: [...access.departments], traders: access.traders },
    approverDepartment: 'security',
    input: personInput,
    output: privacyEraseOutputSchema,
    summarize: (input, locale) =>
      locale === 'en'
        ? `Erase the personal data of ${input.email} (LGPD): stop their bots, delete their exchange keys, pseudonymise them`
        : `Apagar os dados pessoais de ${input.email} (LGPD): parar os robôs, apagar as chaves de corretora, pseudonimizar`,
    // An email that names no one may still be erased (what is left of it: erase.ts): the company's approval then.
    tenantOf: async (ctx, input) =>
      requestTenant(ctx, input).catch(async (error: unknown) => {
        const company = error instanceof ToolRefusal && error.code === 'not_found' ? await companyTenantId(ctx.db) : null;
        if (!company) throw error;
        return company;
      }),
    conflictOfInterest: erasureConflict,
    // Asking to erase oneself waits for the Security head or the CEO too.
    needsApproval: async (ctx, input) => (await throughAnAgent(ctx, input)) || (await isOwnEmail(ctx, input.email)),
    // Once the person is erased, the log does not keep the email that named them; refused (an
    // asker who may not ask), the request keeps it only as its keyed digest, as privacy_export does.
    auditedArgs: (args, outcome) =>
      outcome === 'ok' ? { email: '[erased]' } : outcome === 'denied' || outcome === 'error' ? withEmailDigest(args) : args,
    async execute(ctx, input) {
      await requireMayAsk(ctx, input.email);
      const actor = ctx.actor;
      // Run as the system after an approval: the approval (and who decided it) is in the audit log.
      const result = await refusingUnknown(() =>
        erasePerson(
          ctx.db,
          input.email,
          { kind: actor.kind, id: actor.kind === 'system' ? `system:${actor.name}` : actor.userId },
          { now: ctx.now },
        ),
      );
      // Outside the database too: a backup made before now still holds the person, and a restore
      // of it re-applies this erasure from the ledger.
      // A person without an account is found again by their lead and customer rows (an account, by its email).
      recordErasure({
        at: ctx.now().toISOString(),
        userId: result.userId,
        ...(result.userId === null && result.leadIds.length > 0 ? { leadIds: [...result.leadIds] } : {}),
        ...(result.userId === null && result.customerIds.length > 0 ? { customerIds: [...result.customerIds] } : {}),
        pseudonym: result.pseudonym,
        auditId: result.auditId,
      });
      const { userId: _userId, leadIds: _leadIds, customerIds: _customerIds, ...shown } = result;
      return shown;
    },
  }),
];

/** Consents are each person's own answer (everyone may, on their own account only: no tool records another's). */
const everyone = { departments: [...departments], traders: true } as const;
const ownAccount = (ctx: ToolContext) => {
  if (ctx.actor.kind === 'system') throw new ToolRefusal('forbidden', "A consent is a person's own answer; the system gives none.");
  return ctx.actor.userId;
};
const consentRecordSchema = z.object({
  kind: z.enum(consentKinds),
  version: z.string(),
  granted: z.boolean(),
  source: z.string(),
  recordedAt: z.string(),
});

/** The documents a consent is given to, by slug (the terms of use, the privacy policy). */
const consentDocumentSlugs = Object.values(CONSENT_DOCUMENTS) as [string, ...string[]];

/** Doors ask a person for their consents (the API, Telegram); no agent carries these tools. */
export const consentTools = [
  defineTool({
    name: 'consent_document',
    description: 'The text a consent is given to — the terms of use or the privacy policy — as published now: title, version, body.',
    domain: 'documents',
    effect: 'read',
    access: everyone,
    input: z.strictObject({ slug: z.enum(consentDocumentSlugs, { error: `one of ${consentDocumentSlugs.join(', ')}` }) }),
    output: z.object({
      slug: z.string(),
      kind: z.enum(consentKinds),
      title: z.string(),
      /** `v` and the version number, as a consent to this text records it. */
      version: z.string(),
      body: z.string(),
      sha256: z.string(),
      publishedAt: z.string(),
    }),
    async execute(ctx, input) {
      // Only a published document, and only its current version: what a person agrees to now.
      const [row] = await ctx.db
        .select({
          title: documents.title,
          version: documentVersions.version,
          body: documentVersions.body,
          sha256: documentVersions.sha256,
          createdAt: documentVersions.createdAt,
        })
        .from(documents)
        .innerJoin(
          documentVersions,
          and(eq(documentVersions.documentId, documents.id), eq(documentVersions.version, documents.currentVersion)),
        )
        .where(and(eq(documents.slug, input.slug), eq(documents.status, 'published')));
      if (!row) throw new ToolRefusal('not_found', `The document ${input.slug} is not published.`);
      const kind = consentKinds.find((k) => CONSENT_DOCUMENTS[k] === input.slug)!;
      return {
        slug: input.slug,
        kind,
        title: row.title,
        version: `v${row.version}`,
        body: row.body,
        sha256: row.sha256,
        publishedAt: row.createdAt.toISOString(),
      };
    },
  }),
  defineTool({
    name: 'consent_status',
    description: 'Your own consents: the terms and privacy texts as published now, your answers, whether the terms await you.',
    domain: 'documents',
    effect: 'read',
    access: everyone,
    input: z.strictObject({}),
    output: z.object({
      current: z.array(consentRecordSchema),
      history: z.array(consentRecordSchema),
      texts: z.array(z.object({ kind: z.enum(consentKinds), slug: z.string(), title: z.string(), version: z.string() })),
      termsRequired: z.boolean(),
      unanswered: z.array(z.enum(consentKinds)),
    }),
    async execute(ctx) {
      return consentStatus(ctx.db, ownAccount(ctx));
    },
  }),
  defineTool({
    name: 'record_consent',
    description: 'Record your own answer to the terms of use or to marketing messages, for the text as published now.',
    domain: 'documents',
    effect: 'write',
    access: everyone,
    input: z.strictObject({ kind: z.enum(consentKinds), granted: z.boolean(), source: z.enum(['api', 'telegram']).default('api') }),
    output: consentRecordSchema,
    async execute(ctx, input) {
      return recordOwnConsent(
        ctx.db,
        { userId: ownAccount(ctx), kind: input.kind, granted: input.granted, source: input.source },
        {
          now: ctx.now,
        },
      );
    },
  }),
];
