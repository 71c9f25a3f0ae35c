import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { notificationLevels, notificationPreferences, type Database, type NotificationLevel } from '../db/index.ts';
import { notificationTypes, type NotificationType } from './templates.ts';

// Who gets what: per person and notification type, `on`, `silent` (delivered without sound)
// or `off` (not delivered; the row is marked skipped), with `*` for every type that has no
// setting of its own. Absent means on. The outbox reads these for every channel.

/** A type name a preference may use: a notification type, or `*` for all of them. */
export const preferenceTypeSchema = z.union([z.enum(notificationTypes as [NotificationType, ...NotificationType[]]), z.literal('*')]);

/**
 * Sets how a person receives one type of notification: `on`, `silent` (delivered without
 * sound) or `off` (not delivered; the row is marked skipped). `*` sets every type that has
 * no setting of its own.
 */
export async function setNotificationPreference(
  db: Database,
  userId: string,
  type: NotificationType | '*',
  level: NotificationLevel,
): Promise<void> {
  const args = z.object({ userId: z.uuid(), type: preferenceTypeSchema, level: z.enum(notificationLevels) }).parse({ userId, type, level });
  await db
    .insert(notificationPreferences)
    .values({ userId: args.userId, type: args.type, level: args.level })
    .onConflictDoUpdate({
      target: [notificationPreferences.userId, notificationPreferences.type],
      set: { level: args.level, updatedAt: new Date() },
    });
}

/** A person's settings: every type with the level in force (absent = on; `*` applies to the rest). */
export async function getNotificationPreferences(db: Database, userId: string): Promise<Record<NotificationType, NotificationLevel>> {
  const rows = await db
    .select()
    .from(notificationPreferences)
    .where(eq(notificationPreferences.userId, z.uuid().parse(userId)));
  const byType = new Map(rows.map((row) => [row.type, row.level]));
  return Object.fromEntries(notificationTypes.map((type) => [type, levelFor(byType, type)])) as Record<NotificationType, NotificationLevel>;
}

/** The level in force for one type from a person's settings (type name or `*` → level): its own, else `*`'s, else on. */
export function levelFor(levels: ReadonlyMap<string, NotificationLevel>, type: string): NotificationLevel {
  return levels.get(type) ?? levels.get('*') ?? 'on';
}
