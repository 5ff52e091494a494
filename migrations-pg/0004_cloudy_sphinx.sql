DROP INDEX "orders_details_due_idx";--> statement-breakpoint
DROP INDEX "people_details_due_idx";--> statement-breakpoint
CREATE INDEX "communication_channels_messages_due_idx" ON "communication_channels" USING btree ("id") WHERE last_message_time IS NOT NULL AND (messages_synced_lmt IS NULL OR last_message_time > messages_synced_lmt) AND deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX "orders_details_due_idx" ON "orders" USING btree ("details_synced_at","id");--> statement-breakpoint
CREATE INDEX "people_details_due_idx" ON "people" USING btree ("details_synced_at","id");