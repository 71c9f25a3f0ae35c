CREATE TYPE "public"."bot_draft_status" AS ENUM('draft', 'started', 'discarded');--> statement-breakpoint
CREATE TABLE "bot_drafts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"created_by_user_id" uuid,
	"description" text NOT NULL,
	"locale" text NOT NULL,
	"status" "bot_draft_status" DEFAULT 'draft' NOT NULL,
	"name" text NOT NULL,
	"strategy_name" text,
	"parameters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"symbols" text[] DEFAULT '{}'::text[] NOT NULL,
	"timeframe" text,
	"stake_quote" numeric,
	"max_open_positions" integer,
	"questions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"backtest_id" uuid,
	"backtest_summary" jsonb,
	"bot_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "bot_drafts" ADD CONSTRAINT "bot_drafts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bot_drafts" ADD CONSTRAINT "bot_drafts_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bot_drafts" ADD CONSTRAINT "bot_drafts_backtest_id_backtests_id_fk" FOREIGN KEY ("backtest_id") REFERENCES "public"."backtests"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bot_drafts" ADD CONSTRAINT "bot_drafts_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bot_drafts_tenant_idx" ON "bot_drafts" USING btree ("tenant_id","status");