import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ToolName } from '../../tools/index.ts';
import type { ApiEnv } from './app.ts';
import { idempotencyHeaders } from './idempotency.ts';
import { apiErrorSchema, errorResponses } from './errors.ts';
import type { ApiRouteKit } from './trader-routes.ts';

// Data-subject requests over the API (issue 18, LGPD): a copy of a person's data and their
// erasure, each the privacy_export / privacy_erase tool as the signed-in person, with the tools'
// own rules: a trader may ask about themselves; about anyone (by email) the Security and
// Documents departments, the CEO and admins (other staff: 403, they ask Security). Erasing oneself is never done at once: it
// becomes an approval for the Security head or the CEO (202 with its id).

/** What a tool call became: its result, or an approval (nothing done yet). */
export type ActedTool<T> =
  | { done: true; result: T }
  | { done: false; approval: { id: string; summary: string; approverDepartment: string; message: string } };

export interface PrivacyRouteKit extends ApiRouteKit {
  actTool<T>(c: Context<ApiEnv>, tool: ToolName, args: Record<string, unknown>): Promise<ActedTool<T>>;
}

const requestBody = z
  .object({
    email: z
      .email()
      .optional()
      .openapi({ description: "whose data: default the signed-in person's own; another person's only for Security, Documents, the CEO" }),
  })
  .strict()
  .openapi('DataSubjectRequest');

const exportSchema = z
  .object({
    email: z.string(),
    summary: z.string().openapi({ description: 'a few lines a person can read' }),
    counts: z.record(z.string(), z.number()).openapi({ description: 'rows per table' }),
    document: z
      .looseObject({
        format: z.literal('botcriptofy.person-export/2'),
        generatedAt: z.string(),
        subject: z.looseObject({ email: z.string() }),
        data: z
          .record(z.string(), z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.unknown())) }))
          .openapi({ description: 'per table: the column names once, then each row as an array of values in that order' }),
        omitted: z.record(z.string(), z.array(z.string())),
      })
      .openapi({ description: 'everything held about the person, table by table (secrets left out, named in `omitted`)' }),
  })
  .openapi('PersonDataExport');

const pendingSchema = z
  .object({
    pendingApproval: z.object({
      id: z.uuid().openapi({ description: 'the approval, decided by the Security head or the CEO' }),
      summary: z.string(),
      approverDepartment: z.string(),
    }),
    message: z.string(),
  })
  .openapi('PendingPrivacyRequest');

const storedExportParams = z.object({
  approvalId: z.uuid().openapi({ param: { name: 'approvalId', in: 'path' }, description: 'the approval that made the export' }),
});

const notFound = {
  404: { description: 'Nobody with that email.', content: { 'application/json': { schema: apiErrorSchema } } },
} as const;

const consentBody = z
  .object({
    kind: z
      .enum(['terms', 'marketing'])
      .openapi({ description: 'terms: the terms of use; marketing: marketing messages (privacy policy)' }),
    granted: z.boolean().openapi({ description: 'true: agreed; false: refused or withdrawn' }),
  })
  .strict()
  .openapi('ConsentAnswer');

export function registerPrivacyRoutes(kit: PrivacyRouteKit): void {
  const { api } = kit;
  api.use('/privacy/*', kit.requirePerson);
  api.use('/consents', kit.requirePerson);

  // --- consents: each person's own answers to the texts as published now ---------------------

  api.openapi(
    createRoute({
      method: 'get',
      path: '/consents',
      tags: ['privacy'],
      summary: 'Your consents: the texts as published now, your answers, whether the terms still need your agreement',
      description:
        'The consent_status tool. `termsRequired` is true until the signed-in person agrees to the terms of use as published now (a new version asks again); a client asks for it after sign-in. `unanswered` lists texts with no answer for their current version (marketing is asked, never required).',
      security: [{ session: [] }],
      responses: {
        200: {
          description: 'Your consents.',
          content: { 'application/json': { schema: kit.toolOutput('consent_status').openapi('Consents') } },
        },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv>) => c.json(await kit.callTool(c, 'consent_status', {}))) as never,
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/consents',
      tags: ['privacy'],
      summary: 'Record your answer to the terms of use or to marketing messages (the text as published now)',
      description:
        "The record_consent tool: a new record with the time and the text's version (`v` and the document's version number), audited as `privacy.consent`. 404 when no such text is published.",
      security: [{ session: [] }],
      request: { body: { content: { 'application/json': { schema: consentBody } }, required: true } },
      responses: {
        201: {
          description: 'Recorded.',
          content: { 'application/json': { schema: kit.toolOutput('record_consent').openapi('ConsentRecord') } },
        },
        ...errorResponses,
        404: { description: 'No such text is published.', content: { 'application/json': { schema: apiErrorSchema } } },
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof consentBody> } }>) =>
      c.json(await kit.callTool(c, 'record_consent', { ...c.req.valid('json'), source: 'api' }), 201)) as never,
  );

  /** The body's email, or the signed-in person's own. */
  const subjectOf = (c: Context<ApiEnv>, body: z.infer<typeof requestBody> | undefined) => body?.email ?? c.get('person').email;

  api.openapi(
    createRoute({
      method: 'post',
      path: '/privacy/export',
      tags: ['privacy'],
      summary: "A copy of everything held about a person (LGPD): a trader's own, or Security/Documents by email",
      description:
        "The privacy_export tool: account, subscriptions, invoices and payments, bots, orders and trades, tickets, messages with agents, Telegram links, security events, consents, audit rows that name them. Without `email`, the signed-in person's own. Audited.",
      security: [{ session: [] }],
      // No Idempotency-Key: an export is never kept for replays (server/api/idempotency.ts NOT_REPLAYED_PATHS).
      request: { body: { content: { 'application/json': { schema: requestBody } }, required: false } },
      responses: {
        200: { description: 'The export.', content: { 'application/json': { schema: exportSchema } } },
        ...errorResponses,
        ...notFound,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof requestBody> | undefined } }>) => {
      const email = subjectOf(c, c.req.valid('json'));
      return c.json(await kit.callTool(c, 'privacy_export', { email }));
    }) as never,
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/privacy/exports/{approvalId}',
      tags: ['privacy'],
      summary: 'The export an approved request stored for you (you asked for it through an agent)',
      description:
        'The privacy_export_document tool: the document an approved `privacy_export` (asked through an agent, approved by the Security head or the CEO) stored for the person who asked, and only for them (403 for anyone else). The body is the export itself (format botcriptofy.person-export/2), its SHA-256 in `X-Content-SHA256`. 404 when the approval made none, or the person was erased since. Audited.',
      security: [{ session: [] }],
      request: { params: storedExportParams },
      responses: {
        200: {
          description: 'The export.',
          content: { 'application/json': { schema: exportSchema.shape.document.openapi('StoredPersonDataExport') } },
        },
        ...errorResponses,
        404: { description: 'No export kept for that approval.', content: { 'application/json': { schema: apiErrorSchema } } },
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof storedExportParams> } }>) => {
      const stored = await kit.callTool<{ text: string; sha256: string }>(c, 'privacy_export_document', {
        approvalId: c.req.valid('param').approvalId,
      });
      // The document as stored: no parse and re-serialisation of a large export.
      return c.newResponse(stored.text, 200, { 'content-type': 'application/json; charset=UTF-8', 'x-content-sha256': stored.sha256 });
    }) as never,
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/privacy/erase',
      tags: ['privacy'],
      summary: "Erase a person's data (LGPD): one's own after approval, or Security/Documents by email",
      description:
        "The privacy_erase tool: their bots stopped and exchange keys deleted, personal data pseudonymised everywhere the law does not require keeping it (invoices, payments and trades are kept under the pseudonym), the audit chain still verifiable. Asking to erase oneself (no `email`, or one's own) is never done at once: the answer is 202 with the approval the Security head or the CEO decides; once executed, the person's sessions and keys end. An email that names no account, customer or lead is erased too (`personFound` false): what is left of it — audit rows of a lookup, sign-in attempts, mentions — is redacted.",
      security: [{ session: [] }],
      request: {
        headers: idempotencyHeaders,
        body: { content: { 'application/json': { schema: requestBody } }, required: false },
      },
      responses: {
        200: {
          description: 'Erased: what changed, table by table (no personal data).',
          content: { 'application/json': { schema: kit.toolOutput('privacy_erase').openapi('PersonErased') } },
        },
        202: { description: 'Not erased yet: an approval was requested.', content: { 'application/json': { schema: pendingSchema } } },
        ...errorResponses,
        ...notFound,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof requestBody> | undefined } }>) => {
      const email = subjectOf(c, c.req.valid('json'));
      const acted = await kit.actTool(c, 'privacy_erase', { email });
      if (acted.done) return c.json(acted.result);
      const { id, summary, approverDepartment, message } = acted.approval;
      return c.json({ pendingApproval: { id, summary, approverDepartment }, message } satisfies z.infer<typeof pendingSchema>, 202);
    }) as never,
  );
}
