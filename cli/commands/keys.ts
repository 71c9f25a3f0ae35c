import { z } from 'zod';
import { ApiKeyNotFound, apiKeyJson, apiKeyScopes, createApiKey, listApiKeys, revokeApiKey } from '../../accounts/index.ts';
import { UsageError } from '../../errors/index.ts';
import { actorForEmail } from '../../tools/index.ts';
import { withRuntime, type Runtime } from '../open-runtime.ts';

// `botcriptofy keys create|list|revoke`: a person's personal API keys from the server's shell,
// the same functions and security events as POST/GET/DELETE /api/v1/keys (channel `cli`), for
// an operator setting up an integration for someone. The key is printed once.

const emailSchema = z.email({ error: '--email must be an email address' });
const createSchema = z.object({
  email: emailSchema,
  name: z.string({ error: '--name is required' }).trim().min(1, { error: '--name must not be empty' }).max(100),
  scope: z.enum(apiKeyScopes, { error: `--scope must be one of: ${apiKeyScopes.join(', ')}` }),
  expiresDays: z.coerce
    .number({ error: '--expires-days must be a whole number of days' })
    .int({ error: '--expires-days must be a whole number of days' })
    .min(1, { error: '--expires-days must be 1 to 3650' })
    .max(3650, { error: '--expires-days must be 1 to 3650' })
    .optional(),
});

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new UsageError(result.error.issues[0]?.message ?? 'invalid options');
  return result.data;
}

async function personId(runtime: Runtime, email: string): Promise<string> {
  const actor = await actorForEmail(runtime.database.db, email);
  if (!actor || actor.kind === 'system') throw new UsageError(`No staff member or trader ${email}.`);
  return actor.userId;
}

export async function keysCreateCommand(options: {
  email?: string;
  name?: string;
  scope?: string;
  expiresDays?: string;
  json?: boolean;
}): Promise<void> {
  const { email, name, scope, expiresDays } = parse(createSchema, options);
  await withRuntime(async (runtime) => {
    const userId = await personId(runtime, email);
    const now = new Date();
    const created = await createApiKey(runtime.database.db, {
      userId,
      name,
      scope,
      expiresAt: expiresDays ? new Date(now.getTime() + expiresDays * 86_400_000) : null,
      now,
      ip: null,
      channel: 'cli',
    });
    if (options.json) {
      console.log(JSON.stringify({ ...apiKeyJson(created), key: created.key }));
      return;
    }
    console.log(
      `API key ${created.id} "${name}" (${scope}) for ${email}${created.expiresAt ? `, until ${created.expiresAt.toISOString()}` : ''}:`,
    );
    console.log(created.key);
    console.log('Shown once: only its SHA-256 is kept. Send it as "Authorization: Bearer <key>".');
  });
}

export async function keysListCommand(options: { email?: string; json?: boolean }): Promise<void> {
  const email = parse(emailSchema, options.email);
  await withRuntime(async (runtime) => {
    const keys = (await listApiKeys(runtime.database.db, await personId(runtime, email))).map(apiKeyJson);
    if (options.json) {
      console.log(JSON.stringify(keys));
      return;
    }
    if (keys.length === 0) {
      console.log(`${email} has no API keys.`);
      return;
    }
    for (const key of keys) {
      const state = key.revokedAt ? `revoked ${key.revokedAt}` : key.expiresAt ? `until ${key.expiresAt}` : 'active';
      console.log(`${key.id}  ${key.prefix}…  ${key.scope.padEnd(10)} ${state.padEnd(34)} ${key.name}`);
    }
  });
}

export async function keysRevokeCommand(id: string, options: { email?: string; json?: boolean }): Promise<void> {
  const email = parse(emailSchema, options.email);
  const keyId = parse(z.uuid({ error: `${id} is not a key id (a UUID; keys list shows them)` }), id);
  await withRuntime(async (runtime) => {
    const revoked = await revokeApiKey(runtime.database.db, {
      userId: await personId(runtime, email),
      keyId,
      now: new Date(),
      ip: null,
      channel: 'cli',
    });
    if (revoked.outcome === 'not_found') throw new ApiKeyNotFound(`${email} has no API key ${keyId}.`);
    if (options.json) {
      console.log(JSON.stringify({ ...apiKeyJson(revoked.key), outcome: revoked.outcome }));
      return;
    }
    console.log(
      revoked.outcome === 'revoked'
        ? `Revoked API key ${keyId} "${revoked.key.name}" of ${email}.`
        : `API key ${keyId} of ${email} was already revoked (${revoked.key.revokedAt?.toISOString()}).`,
    );
  });
}
