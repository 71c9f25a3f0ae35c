import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { MAX_ACTIVE_API_KEYS, apiKeyJson, apiKeyScopes, type ApiKeySummary } from '../../accounts/index.ts';
import { TOOLS, decideApproval, getApproval, mayDecide } from '../../tools/index.ts';
import type { ApiDependencies, ApiEnv } from './app.ts';
import { apiError, apiErrorSchema, errorResponses, notFoundResponse, ToolCallRefused } from './errors.ts';

// Account security through the API (issue 16): personal API keys (their owner creates, lists and
// revokes them), the TOTP second factor (Better-Auth's two-factor plugin: enrol, verify, turn
// off) and deciding approvals, which needs a signed-in session with TOTP enrolled for every staff
// member who may decide one (the heads, the CEO, admins). The events these leave are recorded by
// accounts/ (api_key_created, api_key_revoked, totp_enrolled, login_* …).

/** What createApi hands this file. */
export interface AccountSecurityKit {
  readonly api: OpenAPIHono<ApiEnv>;
  readonly deps: ApiDependencies;
  readonly now: () => Date;
  readonly requirePerson: MiddlewareHandler<ApiEnv>;
  /** Passes a request to Better-Auth (accounts.handle); its error bodies become the API's error shape. */
  toAccounts(c: Context<ApiEnv>, request: Request): Promise<Response>;
  clientIp(c: Context): string | undefined;
}

/** The OpenAPI security of a route that takes a session or a key. */
export const SESSION_OR_KEY: Record<string, string[]>[] = [{ session: [] }, { apiKey: [] }];

export const apiKeySecurityScheme = {
  type: 'http',
  scheme: 'bearer',
  description:
    'A personal API key (`bcf_…`, POST /api/v1/keys) as `Authorization: Bearer <key>` or `X-API-Key: <key>`. A `read` key may only GET; a `read_write` key may do what its owner may, except manage keys, enrol TOTP or decide approvals (those need the session).',
} as const;

const keySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    scope: z.enum(apiKeyScopes),
    prefix: z.string().openapi({ description: "the key's first characters, to tell keys apart" }),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');

const toKey = (key: ApiKeySummary): z.infer<typeof keySchema> => apiKeyJson(key);

const newKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ description: 'what the key is for', example: 'grafana dashboard' }),
    scope: z.enum(apiKeyScopes).openapi({ description: '`read`: GET routes only; `read_write`: what its owner may do' }),
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .openapi({ description: 'the key stops working after this many days (default: never)' }),
  })
  .openapi('NewApiKey');

const keyParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: "the key's id" }) });

const jsonError = (description: string) => ({ description, content: { 'application/json': { schema: apiErrorSchema } } });

export function registerAccountSecurityRoutes(kit: AccountSecurityKit): void {
  const { api, deps, now, requirePerson, toAccounts, clientIp } = kit;

  /** Keys are managed with the session only: a leaked key cannot mint more keys or hide itself. */
  const sessionOnly = (c: Context<ApiEnv>, what: string) =>
    c.get('person').via === 'api_key' ? apiError(c, 'forbidden', `${what} needs a signed-in session, not an API key.`) : undefined;

  // --- personal API keys -------------------------------------------------------------------

  api.use('/keys', requirePerson);
  api.use('/keys/*', requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/keys',
      tags: ['accounts'],
      summary: "The signed-in person's API keys (never the keys themselves)",
      security: SESSION_OR_KEY,
      responses: {
        200: {
          description: 'Keys, newest first, revoked ones included.',
          content: { 'application/json': { schema: z.object({ keys: z.array(keySchema) }).openapi('ApiKeys') } },
        },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv>) => {
      const keys = await deps.accounts.listKeys(c.get('person').userId);
      return c.json({ keys: keys.map(toKey) });
    }) as never,
  );

  const createdKeySchema = keySchema
    .extend({ key: z.string().openapi({ description: 'the key itself: shown this once, only its SHA-256 is kept' }) })
    .openapi('ApiKeyCreated');
  api.openapi(
    createRoute({
      method: 'post',
      path: '/keys',
      tags: ['accounts'],
      summary: 'Create a personal API key (shown once)',
      description: `Recorded as the security event \`api_key_created\`. At most ${MAX_ACTIVE_API_KEYS} active keys per person. Needs the session (not a key).`,
      security: [{ session: [] }],
      request: { body: { content: { 'application/json': { schema: newKeyBody } }, required: true } },
      responses: {
        201: { description: 'The new key.', content: { 'application/json': { schema: createdKeySchema } } },
        ...errorResponses,
        409: jsonError(`The person has ${MAX_ACTIVE_API_KEYS} active keys already.`),
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof newKeyBody> } }>) => {
      const refused = sessionOnly(c, 'Creating an API key');
      if (refused) return refused;
      const { name, scope, expiresInDays } = c.req.valid('json');
      const created = await deps.accounts.createKey(
        c.get('person').userId,
        { name, scope, ...(expiresInDays ? { expiresInDays } : {}) },
        clientIp(c),
      );
      return c.json({ ...toKey(created), key: created.key } satisfies z.infer<typeof createdKeySchema>, 201);
    }) as never,
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/keys/{id}',
      tags: ['accounts'],
      summary: 'Revoke one of your API keys (it stops working at once)',
      description:
        'Recorded as the security event `api_key_revoked`. Revoking a revoked key answers it as it is. Needs the session (not a key).',
      security: [{ session: [] }],
      request: { params: keyParams },
      responses: {
        200: { description: 'The revoked key.', content: { 'application/json': { schema: keySchema } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof keyParams> } }>) => {
      const refused = sessionOnly(c, 'Revoking an API key');
      if (refused) return refused;
      const revoked = await deps.accounts.revokeKey(c.get('person').userId, c.req.valid('param').id, clientIp(c));
      if (revoked.outcome === 'not_found') return apiError(c, 'not_found', `You have no API key ${c.req.valid('param').id}.`);
      return c.json(toKey(revoked.key));
    }) as never,
  );

  // --- TOTP second factor: Better-Auth's two-factor endpoints, documented here --------------

  const forward = (c: Context<ApiEnv>, body: unknown) =>
    toAccounts(c, new Request(c.req.url, { method: 'POST', headers: c.req.raw.headers, body: JSON.stringify(body) }));

  const passwordBody = z.object({ password: z.string().min(1).openapi({ description: "the person's password, again" }) });
  const enableBody = passwordBody.openapi('EnableTotp');
  const enrolment = z
    .object({
      totpURI: z.string().openapi({ description: 'otpauth://totp/… for an authenticator app (as a QR code); holds the secret' }),
      backupCodes: z.array(z.string()).openapi({ description: 'one-time codes for when the authenticator is lost; shown once' }),
    })
    .loose()
    .openapi('TotpEnrolment');
  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/two-factor/enable',
      tags: ['accounts'],
      summary: 'Start enrolling a TOTP second factor (an authenticator app)',
      description:
        'Answers the TOTP secret (as an otpauth:// URI) and backup codes. The factor is on only once POST /auth/two-factor/verify-totp accepts a first code; from then on, sign-in asks for a code. Session only.',
      security: [{ session: [] }],
      request: { body: { content: { 'application/json': { schema: enableBody } }, required: true } },
      responses: {
        200: { description: 'The secret and backup codes.', content: { 'application/json': { schema: enrolment } } },
        400: jsonError('A wrong password, or TOTP is enrolled already.'),
        401: errorResponses[401],
        429: jsonError('Too many two-factor requests from this address (Retry-After).'),
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof enableBody> } }>) => forward(c, c.req.valid('json'))) as never,
  );

  const verifyBody = z
    .object({
      code: z
        .string()
        .regex(/^\d{6}$/, { error: 'expected the 6 digits the authenticator app shows' })
        .openapi({ example: '123456' }),
    })
    .openapi('VerifyTotp');
  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/two-factor/verify-totp',
      tags: ['accounts'],
      summary: 'A TOTP code: finishes a sign-in, or proves an enrolment',
      description:
        'After a sign-in that answered `twoFactorRedirect: true` (its `botcriptofy.two_factor` cookie with this request): a right code sets the session cookie. With a session after /auth/two-factor/enable: a right code turns the factor on (`totp_enrolled`) and replaces the session cookie. Wrong codes count towards the account lock (`login_failed`).',
      request: { body: { content: { 'application/json': { schema: verifyBody } }, required: true } },
      responses: {
        200: {
          description: 'Verified; the session cookie is in Set-Cookie.',
          content: {
            'application/json': {
              schema: z
                .object({ token: z.string(), user: z.object({ id: z.string(), email: z.string() }).loose() })
                .loose()
                .openapi('TotpVerified'),
            },
          },
        },
        400: errorResponses[400],
        401: jsonError('A wrong code, or no sign-in or session to verify.'),
        429: jsonError('The account is locked, or too many attempts from this address (Retry-After).'),
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof verifyBody> } }>) => forward(c, c.req.valid('json'))) as never,
  );

  const disableBody = passwordBody.openapi('DisableTotp');
  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/two-factor/disable',
      tags: ['accounts'],
      summary: 'Turn the TOTP second factor off',
      description:
        'Recorded as `totp_disabled`. A staff member who may decide approvals cannot decide any through the API until they enrol again. Session only.',
      security: [{ session: [] }],
      request: { body: { content: { 'application/json': { schema: disableBody } }, required: true } },
      responses: {
        200: {
          description: 'Off; the session cookie is replaced.',
          content: { 'application/json': { schema: z.object({ status: z.boolean() }) } },
        },
        400: jsonError('A wrong password.'),
        401: errorResponses[401],
        429: jsonError('Too many two-factor requests from this address (Retry-After).'),
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof disableBody> } }>) => forward(c, c.req.valid('json'))) as never,
  );

  // --- deciding approvals: a session with TOTP ---------------------------------------------

  const approvalParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: "the approval's id" }) });
  const decisionBody = z
    .object({ note: z.string().trim().min(1).max(500).optional().openapi({ description: 'why (kept with the decision)' }) })
    .openapi('ApprovalDecisionNote');
  const decisionSchema = z
    .object({
      approvalId: z.uuid(),
      status: z
        .enum(['executed', 'failed', 'rejected'])
        .openapi({ description: 'executed or failed: approved and run; rejected: not run' }),
      message: z.string().nullable().openapi({ description: "the action's outcome when it ran" }),
    })
    .openapi('ApprovalDecision');

  api.use('/approvals/*', requirePerson);
  for (const decision of ['approve', 'reject'] as const) {
    api.openapi(
      createRoute({
        method: 'post',
        path: `/approvals/{id}/${decision}`,
        tags: ['staff'],
        summary: decision === 'approve' ? 'Approve a pending action (it runs at once)' : 'Reject a pending action (it never runs)',
        description:
          'Decided by the approver department head, the CEO or an admin, once, however often it is asked (the same code as the CLI and Telegram). Needs a signed-in session, not an API key, and the decider must have a TOTP second factor enrolled (POST /auth/two-factor/enable, then /verify-totp): until then 403.',
        security: [{ session: [] }],
        request: { params: approvalParams, body: { content: { 'application/json': { schema: decisionBody } }, required: false } },
        responses: {
          200: { description: 'Decided.', content: { 'application/json': { schema: decisionSchema } } },
          ...errorResponses,
          ...notFoundResponse,
          409: jsonError('Already decided, or expired.'),
        },
      }),
      (async (
        c: Context<ApiEnv, string, { out: { param: z.infer<typeof approvalParams>; json: z.infer<typeof decisionBody> | undefined } }>,
      ) => {
        const { id } = c.req.valid('param');
        const note = c.req.valid('json')?.note;
        const person = c.get('person');
        const actor = c.get('actor');
        const refused = sessionOnly(c, 'Deciding an approval');
        if (refused) return refused;
        const approval = await getApproval(deps.db, id);
        if (!approval) return apiError(c, 'not_found', `No approval ${id}.`);
        if (mayDecide(actor, approval.approverDepartment) && !person.twoFactorEnabled)
          return apiError(
            c,
            'forbidden',
            'Deciding approvals needs a TOTP second factor: enrol one first (POST /api/v1/auth/two-factor/enable, then POST /api/v1/auth/two-factor/verify-totp with a code from your authenticator app).',
          );
        const result = await decideApproval(
          TOOLS,
          { db: deps.db, billing: deps.billing, now, trading: deps.trading },
          actor,
          id,
          decision,
          note,
        );
        if (!result.decided) {
          // Someone who may not decide it (audited as denied by decideApproval), or no longer pending (409)…
          // …or the person who asked for it (four-eyes: someone else must decide).
          if (!mayDecide(actor, approval.approverDepartment) || result.fourEyes) throw new ToolCallRefused('forbidden', result.reason);
          throw new ToolCallRefused('conflict', result.reason);
        }
        const outcome = result.outcome;
        return c.json({
          approvalId: id,
          status: result.status,
          message: outcome
            ? outcome.ok
              ? 'message' in outcome && typeof outcome.message === 'string'
                ? outcome.message
                : null
              : outcome.message
            : null,
        } satisfies z.infer<typeof decisionSchema>);
      }) as never,
    );
  }
}
