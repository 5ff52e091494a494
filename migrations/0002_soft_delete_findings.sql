CREATE TABLE `api_findings` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`detail` text,
	`source` text NOT NULL,
	`checked_at` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `chat_messages` ADD `deleted_at` text;--> statement-breakpoint
ALTER TABLE `communication_channels` ADD `deleted_at` text;--> statement-breakpoint
ALTER TABLE `orders` ADD `deleted_at` text;--> statement-breakpoint
ALTER TABLE `people` ADD `deleted_at` text;