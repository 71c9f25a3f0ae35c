CREATE TABLE "mastra_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"thread_id" text NOT NULL,
	"resource_id" text,
	"role" text NOT NULL,
	"type" text DEFAULT 'text' NOT NULL,
	"content" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mastra_resources" (
	"id" text PRIMARY KEY NOT NULL,
	"working_memory" text,
	"metadata" jsonb,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mastra_threads" (
	"id" text PRIMARY KEY NOT NULL,
	"resource_id" text NOT NULL,
	"title" text,
	"metadata" jsonb,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "mastra_messages_thread_id_created_at_index" ON "mastra_messages" USING btree ("thread_id","created_at");--> statement-breakpoint
CREATE INDEX "mastra_messages_resource_id_created_at_index" ON "mastra_messages" USING btree ("resource_id","created_at");--> statement-breakpoint
CREATE INDEX "mastra_threads_resource_id_updated_at_index" ON "mastra_threads" USING btree ("resource_id","updated_at");