CREATE TABLE "pair_locks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"bot_id" uuid,
	"symbol" text NOT NULL,
	"reason" text NOT NULL,
	"locked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone NOT NULL,
	"created_by_user_id" uuid,
	"unlocked_at" timestamp with time zone,
	"unlocked_by_user_id" uuid
);
--> statement-breakpoint
ALTER TABLE "pair_locks" ADD CONSTRAINT "pair_locks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pair_locks" ADD CONSTRAINT "pair_locks_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pair_locks" ADD CONSTRAINT "pair_locks_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pair_locks" ADD CONSTRAINT "pair_locks_unlocked_by_user_id_users_id_fk" FOREIGN KEY ("unlocked_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pair_locks_tenant_until_idx" ON "pair_locks" USING btree ("tenant_id","locked_until");--> statement-breakpoint
CREATE INDEX "pair_locks_bot_until_idx" ON "pair_locks" USING btree ("bot_id","locked_until");