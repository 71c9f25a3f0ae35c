DROP INDEX "mastra_messages_thread_id_created_at_index";--> statement-breakpoint
CREATE INDEX "orders_time_idx" ON "orders" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "security_events_user_type_time_idx" ON "security_events" USING btree ("user_id","type","occurred_at");--> statement-breakpoint
CREATE INDEX "mastra_messages_thread_id_created_at_id_index" ON "mastra_messages" USING btree ("thread_id","created_at","id");