DROP INDEX `orders_details_due_idx`;--> statement-breakpoint
CREATE INDEX `orders_details_due_idx` ON `orders` (`details_synced_at`,`id`);--> statement-breakpoint
DROP INDEX `people_details_due_idx`;--> statement-breakpoint
CREATE INDEX `people_details_due_idx` ON `people` (`details_synced_at`,`id`);--> statement-breakpoint
CREATE INDEX `communication_channels_messages_due_idx` ON `communication_channels` (`id`) WHERE last_message_time IS NOT NULL AND (messages_synced_lmt IS NULL OR last_message_time > messages_synced_lmt) AND deleted_at IS NULL;