import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { approvals, companyTenantId, configEntries, configEntryVersions, departments, notificationLevels, users } from '../../db/index.ts';
import { getNotificationPreferences, notificationTypes, setNotificationPreference } from '../../notifications/index.ts';
import { ToolRefusal } from '../scope.ts';
import { defineTool, type ToolContext } from '../types.ts';

/** Keys whose values are secrets: never returned, never set through an agent. */
const SECRET_KEY = /(secret|token|password|passwd|api[_.-]?key|private|credential)/i;
export const isSecretConfigKey = (key: string) => SECRET_KEY.test(key);
const REDACTED = '[redacted]';
const shown = (key: string, value: unknown) => (isSecretConfigKey(key) ? REDACTED : value);

/** What a setting may hold (flat on purpose: a small model fills it in reliably). */
const configValue = z.union([
  z.boolean(),
  z.number(),
  z.string().max(500),
  z.array(z.union([z.string().max(100), z.number()])).max(50),
  z.record(z.string(), z.union([z.number(), z.string().max(100), z.boolean()])),
]);
type ConfigValue = z.infer<typeof configValue>;

/**
 * Limits of the settings that steer money and risk. Any other key keeps the kind of value it
 * has (a number stays a number). `trading.kill_switch` must be a real boolean: the trading
 * engine (killSwitchEngaged) treats only `true` as engaged.
 */
const CONFIG_RULES: Readonly<Record<string, z.ZodType>> = {
  'trading.kill_switch': z.boolean(),
  'trading.loop_interval_seconds': z.number().int().min(1).max(3600),
  'trading.default_symbols': z
    .array(z.string().regex(/^[A-Z0-9]+\/[A-Z0-9]+$/, 'symbols like BTC/USDT'))
    .min(1)
    .max(20),
  'risk.max_daily_loss_pct': z.number().gt(0).max(100),
  'risk.max_open_positions_per_bot': z.number().int().min(1).max(50),
  'risk.stop_loss_pct': z.number().gt(0).max(50),
  'security.brute_force_threshold': z.number().int().min(2).max(100),
  /** Critical incidents (withdrawal attempts) freeze the keys without waiting for a person. */
  'security.auto_freeze': z.boolean(),
  'agents.max_steps': z.number().int().min(1).max(20),
  'reports.daily_time': z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time like 08:00'),
  'notifications.per_chat_per_second': z.number().gt(0).max(30),
  /** Four-eyes per action (tools/approvals.ts FOUR_EYES_SETTING): tool name → whether its requester may not decide it. */
  'approvals.four_eyes': z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'tool names such as refund_payment'), z.boolean()),
};

const kindOf = (value: unknown) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);
const configKey = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/, 'a setting key such as trading.kill_switch');

async function entryFor(ctx: ToolContext, key: string) {
  const [entry] = await ctx.db.select().from(configEntries).where(eq(configEntries.key, key));
  if (entry) return entry;
  // A typo of a real key (there are few settings, so all of them are compared).
  const last = key.split('.').at(-1)!;
  const near = (await ctx.db.select({ key: configEntries.key }).from(configEntries))
    .map((row) => row.key)
    .filter((candidate) => editDistance(candidate, key) <= 3 || candidate.endsWith(`.${last}`))
    .slice(0, 5);
  throw new ToolRefusal('not_found', `No setting ${key}${near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : ''}.`);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = current;
  }
  return previous[b.length]!;
}

/** Refuses a change that is not allowed or not a change; returns the current entry. */
async function checkConfigChange(ctx: ToolContext, key: string, value: ConfigValue) {
  if (isSecretConfigKey(key))
    throw new ToolRefusal('forbidden', `${key} holds a secret; secrets are set with the secrets command, never through an agent.`);
  const entry = await entryFor(ctx, key);
  const rule = CONFIG_RULES[key];
  if (rule) {
    const checked = rule.safeParse(value);
    if (!checked.success)
      throw new ToolRefusal('forbidden', `Invalid value for ${key}: ${checked.error.issues.map((i) => i.message).join('; ')}.`);
  } else if (kindOf(value) !== kindOf(entry.value)) {
    throw new ToolRefusal('forbidden', `${key} holds a ${kindOf(entry.value)}, not a ${kindOf(value)}.`);
  }
  if (JSON.stringify(value) === JSON.stringify(entry.value))
    throw new ToolRefusal('not_found', `${key} is already ${JSON.stringify(value)}; nothing to change.`);
  return entry;
}

/** The company itself: settings belong to no trader, so their approvals sit on the company tenant. */
async function companyTenant(ctx: ToolContext): Promise<string> {
  if (ctx.actor.kind === 'staff') return ctx.actor.tenantId;
  const company = await companyTenantId(ctx.db);
  if (!company) throw new ToolRefusal('not_found', 'No company tenant.');
  return company;
}

/** Who changed it: the staff member, or for an approved change the person who asked for it. */
async function changedBy(ctx: ToolContext): Promise<string | null> {
  if (ctx.actor.kind !== 'system') return ctx.actor.userId;
  const approvalId = /^approval:([0-9a-f-]{36})$/.exec(ctx.actor.name)?.[1];
  if (!approvalId) return null;
  const [approval] = await ctx.db.select({ by: approvals.requestedByUserId }).from(approvals).where(eq(approvals.id, approvalId));
  return approval?.by ?? null;
}

/** Writes the new version row and moves the entry to it, in one transaction. */
async function applyConfigChange(ctx: ToolContext, key: string, value: ConfigValue, reason: string) {
  await checkConfigChange(ctx, key, value);
  const by = await changedBy(ctx);
  return ctx.db.transaction(async (tx) => {
    const [entry] = await tx.select().from(configEntries).where(eq(configEntries.key, key)).for('update');
    const version = entry!.version + 1;
    await tx.insert(configEntryVersions).values({ key, version, value, changedByUserId: by, reason, createdAt: ctx.now() });
    await tx.update(configEntries).set({ value, version, updatedByUserId: by, updatedAt: ctx.now() }).where(eq(configEntries.key, key));
    return { key, previousValue: entry!.value as ConfigValue, value, version };
  });
}

const changeResult = z.object({ key: z.string(), previousValue: z.json(), value: z.json(), version: z.number() });
const KILL_SWITCH_NOTE = ' (true halts every new entry of every bot; exits still run)';
const KILL_SWITCH_NOTE_PT = ' (true bloqueia toda nova entrada de todos os robôs; saídas continuam)';

export const settingsTools = [
  defineTool({
    name: 'get_config',
    description: 'Current value of one setting (key) or of all settings under a prefix; secrets are never shown.',
    domain: 'settings',
    effect: 'read',
    access: { departments: ['settings', 'security', 'audit'] },
    input: z.strictObject({
      key: z.string().min(2).max(100).optional().describe('e.g. trading.kill_switch'),
      prefix: z.string().min(2).max(60).optional().describe('e.g. risk'),
    }),
    output: z.object({
      entries: z.array(
        z.object({
          key: z.string(),
          value: z.json(),
          secret: z.boolean(),
          version: z.number(),
          description: z.string().nullable(),
          updatedAt: z.string(),
          updatedBy: z.string().nullable(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const select = () =>
        ctx.db
          .select({ entry: configEntries, by: users.name })
          .from(configEntries)
          .leftJoin(users, eq(users.id, configEntries.updatedByUserId));
      let rows = input.key
        ? await select().where(eq(configEntries.key, input.key))
        : await select()
            .where(input.prefix ? sql`${configEntries.key} like ${`${input.prefix.replace(/\.$/, '')}.%`}` : undefined)
            .orderBy(asc(configEntries.key));
      if (input.key && rows.length === 0) {
        // "kill switch", "kill_switch", "stop loss": the one key that contains those words.
        const words = input.key
          .toLowerCase()
          .split(/[^a-z0-9]+/)
          .filter(Boolean);
        rows = words.length === 0 ? [] : await select().where(and(...words.map((w) => sql`${configEntries.key} like ${`%${w}%`}`)));
        if (rows.length !== 1)
          throw new ToolRefusal(
            'not_found',
            `No setting ${input.key}${rows.length > 1 ? ` (several match: ${rows.map((r) => r.entry.key).join(', ')})` : ''}.`,
          );
      }
      return {
        entries: rows.map(({ entry, by }) => ({
          key: entry.key,
          value: shown(entry.key, entry.value),
          secret: isSecretConfigKey(entry.key),
          version: entry.version,
          description: entry.description,
          updatedAt: entry.updatedAt.toISOString(),
          updatedBy: by,
        })),
      };
    },
  }),
  defineTool({
    name: 'config_history',
    description: 'Past versions of one setting, newest first: value, who changed it, when and why.',
    domain: 'settings',
    effect: 'read',
    access: { departments: ['settings', 'audit'] },
    input: z.strictObject({ key: configKey, limit: z.number().int().min(1).max(50).default(10) }),
    output: z.object({
      key: z.string(),
      currentVersion: z.number(),
      versions: z.array(
        z.object({ version: z.number(), value: z.json(), changedBy: z.string().nullable(), reason: z.string().nullable(), at: z.string() }),
      ),
    }),
    async execute(ctx, input) {
      const entry = await entryFor(ctx, input.key);
      const rows = await ctx.db
        .select({ version: configEntryVersions, by: users.name })
        .from(configEntryVersions)
        .leftJoin(users, eq(users.id, configEntryVersions.changedByUserId))
        .where(eq(configEntryVersions.key, entry.key))
        .orderBy(desc(configEntryVersions.version))
        .limit(input.limit);
      return {
        key: entry.key,
        currentVersion: entry.version,
        versions: rows.map(({ version: v, by }) => ({
          version: v.version,
          value: shown(entry.key, v.value),
          changedBy: by,
          reason: v.reason,
          at: v.createdAt.toISOString(),
        })),
      };
    },
  }),
  defineTool({
    name: 'set_config',
    description: 'Change a setting to a new value with a reason (needs approval by the Settings head or the CEO).',
    domain: 'settings',
    effect: 'approval',
    access: { departments: ['settings'] },
    approverDepartment: 'settings',
    input: z.strictObject({ key: configKey, value: configValue, reason: z.string().min(3).max(300) }),
    output: changeResult,
    summarize: (input, locale) =>
      locale === 'en'
        ? `Set ${input.key} to ${JSON.stringify(input.value)}${input.key === 'trading.kill_switch' ? KILL_SWITCH_NOTE : ''}: ${input.reason}`
        : `Mudar ${input.key} para ${JSON.stringify(input.value)}${input.key === 'trading.kill_switch' ? KILL_SWITCH_NOTE_PT : ''}: ${input.reason}`,
    async tenantOf(ctx, input) {
      // Asked before the approval is queued, so nobody is asked to approve an impossible change.
      await checkConfigChange(ctx, input.key, input.value);
      return companyTenant(ctx);
    },
    execute: (ctx, input) => applyConfigChange(ctx, input.key, input.value, input.reason),
  }),
  defineTool({
    name: 'rollback_config',
    description: 'Put a setting back to an earlier version, by default the previous one (needs Settings head approval).',
    domain: 'settings',
    effect: 'approval',
    access: { departments: ['settings'] },
    approverDepartment: 'settings',
    input: z.strictObject({
      key: configKey,
      version: z.number().int().min(1).optional().describe('default: the version before the current one'),
      reason: z.string().min(3).max(300),
    }),
    output: changeResult,
    summarize: (input, locale) =>
      locale === 'en'
        ? `Roll ${input.key} back to ${input.version === undefined ? 'its previous version' : `version ${input.version}`}: ${input.reason}`
        : `Voltar ${input.key} para ${input.version === undefined ? 'a versão anterior' : `a versão ${input.version}`}: ${input.reason}`,
    async tenantOf(ctx, input) {
      const { value } = await rollbackTarget(ctx, input.key, input.version);
      await checkConfigChange(ctx, input.key, value);
      return companyTenant(ctx);
    },
    async execute(ctx, input) {
      const { version, value } = await rollbackTarget(ctx, input.key, input.version);
      return applyConfigChange(ctx, input.key, value, `rollback to version ${version}: ${input.reason}`);
    },
  }),
];

/** The version to go back to (default: the one before the current) and its value. */
async function rollbackTarget(
  ctx: ToolContext,
  key: string,
  requested: number | undefined,
): Promise<{ version: number; value: ConfigValue }> {
  const entry = await entryFor(ctx, key);
  const version = requested ?? entry.version - 1;
  if (version < 1) throw new ToolRefusal('not_found', `${key} has only one version; there is nothing to go back to.`);
  const [row] = await ctx.db
    .select({ value: configEntryVersions.value })
    .from(configEntryVersions)
    .where(and(eq(configEntryVersions.key, key), eq(configEntryVersions.version, version)));
  if (!row) throw new ToolRefusal('not_found', `${key} has no version ${version}.`);
  return { version, value: row.value as ConfigValue };
}

/** Anyone's own notification settings (Telegram's /notifications): everyone may, on their own account only. */
const everyone = { departments: [...departments], traders: true } as const;
const ownUser = (ctx: ToolContext) => {
  if (ctx.actor.kind === 'system') throw new ToolRefusal('forbidden', 'Notification settings belong to a person.');
  return ctx.actor.userId;
};

export const notificationSettingTools = [
  defineTool({
    name: 'notification_settings',
    description: 'Your own notification settings: each kind on, silent (no sound) or off.',
    domain: 'settings',
    effect: 'read',
    access: everyone,
    input: z.strictObject({}),
    output: z.object({ levels: z.record(z.string(), z.enum(notificationLevels)) }),
    async execute(ctx) {
      return { levels: await getNotificationPreferences(ctx.db, ownUser(ctx)) };
    },
  }),
  defineTool({
    name: 'set_notification_setting',
    description: 'Set how you receive one kind of notification (or all, kind "*"): on, silent or off.',
    domain: 'settings',
    effect: 'write',
    access: everyone,
    input: z.strictObject({
      kind: z.union([z.enum(notificationTypes as [string, ...string[]]), z.literal('*')]),
      level: z.enum(notificationLevels),
    }),
    output: z.object({ kind: z.string(), level: z.string() }),
    async execute(ctx, input) {
      await setNotificationPreference(ctx.db, ownUser(ctx), input.kind as Parameters<typeof setNotificationPreference>[2], input.level);
      return { kind: input.kind, level: input.level };
    },
  }),
];
