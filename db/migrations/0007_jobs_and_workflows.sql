CREATE TABLE "bot_ticks" (
	"bot_id" uuid NOT NULL,
	"slot_at" timestamp with time zone NOT NULL,
	"worker_id" text NOT NULL,
	"owner_epoch" bigint NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bot_ticks_bot_id_slot_at_pk" PRIMARY KEY("bot_id","slot_at")
);
--> statement-breakpoint
CREATE TABLE "mastra_workflow_snapshots" (
	"workflow_name" text NOT NULL,
	"run_id" text NOT NULL,
	"resource_id" text,
	"snapshot" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "mastra_workflow_snapshots_workflow_name_run_id_pk" PRIMARY KEY("workflow_name","run_id")
);
--> statement-breakpoint
ALTER TABLE "bots" ADD COLUMN "owner_epoch" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "bot_ticks" ADD CONSTRAINT "bot_ticks_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bot_ticks_processed_idx" ON "bot_ticks" USING btree ("processed_at");--> statement-breakpoint
CREATE INDEX "mastra_workflow_snapshots_run_id_index" ON "mastra_workflow_snapshots" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "mastra_workflow_snapshots_created_at_index" ON "mastra_workflow_snapshots" USING btree ("created_at");