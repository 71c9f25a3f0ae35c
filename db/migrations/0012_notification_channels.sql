ALTER TABLE "notifications" DROP CONSTRAINT "notifications_dedupeKey_unique";--> statement-breakpoint
DROP INDEX "notifications_pending_idx";--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "channel" text DEFAULT 'telegram' NOT NULL;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "channel_message_id" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_channel_dedupe_key_unique" ON "notifications" USING btree ("channel","dedupe_key");--> statement-breakpoint
CREATE INDEX "notifications_pending_idx" ON "notifications" USING btree ("status","channel","next_attempt_at");--> statement-breakpoint
UPDATE "notifications" SET "channel_message_id" = "telegram_message_id" WHERE "telegram_message_id" IS NOT NULL;
