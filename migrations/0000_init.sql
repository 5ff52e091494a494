CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`tags` text,
	`source` text,
	`bot_status` text,
	`last_message_time` text,
	`created_at` text,
	`raw` text NOT NULL,
	`synced_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `accounts_lmt_idx` ON `accounts` (`last_message_time`);--> statement-breakpoint
CREATE TABLE `chat_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`channel_id` text NOT NULL,
	`text` text,
	`type` text,
	`read` integer,
	`created_at` text,
	`updated_at` text,
	`created_by` text,
	`raw` text NOT NULL,
	`synced_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `chat_messages_channel_created_idx` ON `chat_messages` (`channel_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `chat_messages_created_idx` ON `chat_messages` (`created_at`);--> statement-breakpoint
CREATE TABLE `communication_channels` (
	`id` text PRIMARY KEY NOT NULL,
	`person_id` text,
	`name` text,
	`source` text,
	`bot_status` text,
	`last_message_time` text,
	`created_at` text,
	`utm_marks` text,
	`connection_id` text,
	`connection_status` text,
	`raw` text,
	`synced_at` text NOT NULL,
	`messages_synced_lmt` text,
	`messages_synced_at` text
);
--> statement-breakpoint
CREATE INDEX `communication_channels_person_idx` ON `communication_channels` (`person_id`);--> statement-breakpoint
CREATE INDEX `communication_channels_lmt_idx` ON `communication_channels` (`last_message_time`);--> statement-breakpoint
CREATE INDEX `communication_channels_source_idx` ON `communication_channels` (`source`);--> statement-breakpoint
CREATE TABLE `connections` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text,
	`name` text,
	`raw` text NOT NULL,
	`synced_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `custom_fields` (
	`person_id` text NOT NULL,
	`ordinal` integer NOT NULL,
	`name` text NOT NULL,
	`type` text,
	`value` text,
	PRIMARY KEY(`person_id`, `ordinal`)
);
--> statement-breakpoint
CREATE INDEX `custom_fields_name_idx` ON `custom_fields` (`name`);--> statement-breakpoint
CREATE TABLE `leadgentools` (
	`id` text PRIMARY KEY NOT NULL,
	`tunnel_id` text,
	`name` text,
	`type` text,
	`raw` text NOT NULL,
	`synced_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `leadgentools_tunnel_idx` ON `leadgentools` (`tunnel_id`);--> statement-breakpoint
CREATE TABLE `message_templates` (
	`id` text PRIMARY KEY NOT NULL,
	`category_id` text,
	`message_name` text,
	`raw` text NOT NULL,
	`synced_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `message_templates_category_idx` ON `message_templates` (`category_id`);--> statement-breakpoint
CREATE TABLE `orders` (
	`id` text PRIMARY KEY NOT NULL,
	`person_id` text,
	`title` text,
	`description` text,
	`price` real,
	`currency` text,
	`status` text,
	`payment_method` text,
	`created_at` text,
	`updated_at` text,
	`raw` text NOT NULL,
	`detail_raw` text,
	`synced_at` text NOT NULL,
	`details_synced_at` text
);
--> statement-breakpoint
CREATE INDEX `orders_person_idx` ON `orders` (`person_id`);--> statement-breakpoint
CREATE INDEX `orders_status_idx` ON `orders` (`status`);--> statement-breakpoint
CREATE INDEX `orders_created_idx` ON `orders` (`created_at`);--> statement-breakpoint
CREATE INDEX `orders_details_due_idx` ON `orders` (`details_synced_at`);--> statement-breakpoint
CREATE TABLE `outbound_writes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`target_id` text,
	`payload` text DEFAULT '{}' NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`api_response` text,
	`idempotency_key` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`completed_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbound_writes_idempotency_key_idx` ON `outbound_writes` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `outbound_writes_status_idx` ON `outbound_writes` (`status`);--> statement-breakpoint
CREATE TABLE `people` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`email` text,
	`phone` text,
	`gender` text,
	`locale` text,
	`profile_image` text,
	`last_message_time` text,
	`created_at` text,
	`updated_at` text,
	`tags` text,
	`raw` text NOT NULL,
	`detail_raw` text,
	`synced_at` text NOT NULL,
	`details_synced_at` text
);
--> statement-breakpoint
CREATE INDEX `people_last_message_time_idx` ON `people` (`last_message_time`);--> statement-breakpoint
CREATE INDEX `people_email_idx` ON `people` (`email`);--> statement-breakpoint
CREATE INDEX `people_phone_idx` ON `people` (`phone`);--> statement-breakpoint
CREATE INDEX `people_details_due_idx` ON `people` (`details_synced_at`);--> statement-breakpoint
CREATE TABLE `person_contacted_users` (
	`person_id` text NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`person_id`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `person_contacted_users_user_idx` ON `person_contacted_users` (`user_id`);--> statement-breakpoint
CREATE TABLE `person_tags` (
	`person_id` text NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`person_id`, `tag`)
);
--> statement-breakpoint
CREATE INDEX `person_tags_tag_idx` ON `person_tags` (`tag`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`person_id` text NOT NULL,
	`ordinal` integer NOT NULL,
	`tunnel_id` text,
	`tunnel_name` text,
	`leadgentool_id` text,
	`leadgentool_name` text,
	`traffic_source_id` text,
	`traffic_source` text,
	`account_id` text,
	`raw` text NOT NULL,
	PRIMARY KEY(`person_id`, `ordinal`)
);
--> statement-breakpoint
CREATE INDEX `subscriptions_tunnel_idx` ON `subscriptions` (`tunnel_id`);--> statement-breakpoint
CREATE INDEX `subscriptions_account_idx` ON `subscriptions` (`account_id`);--> statement-breakpoint
CREATE TABLE `sync_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`stream` text NOT NULL,
	`trigger` text,
	`started_at` text NOT NULL,
	`finished_at` text,
	`status` text NOT NULL,
	`windows` integer DEFAULT 0 NOT NULL,
	`pages` integer DEFAULT 0 NOT NULL,
	`rows_inserted` integer DEFAULT 0 NOT NULL,
	`rows_updated` integer DEFAULT 0 NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`retries` integer DEFAULT 0 NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `sync_runs_stream_started_idx` ON `sync_runs` (`stream`,`started_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `sync_runs_run_stream_idx` ON `sync_runs` (`run_id`,`stream`);--> statement-breakpoint
CREATE TABLE `sync_state` (
	`stream` text NOT NULL,
	`partition` text DEFAULT '' NOT NULL,
	`cursor` text,
	`state` text,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`stream`, `partition`)
);
--> statement-breakpoint
CREATE TABLE `tags` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`raw` text NOT NULL,
	`synced_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tags_name_idx` ON `tags` (`name`);--> statement-breakpoint
CREATE TABLE `template_categories` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`raw` text NOT NULL,
	`synced_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tunnel_stats` (
	`tunnel_id` text NOT NULL,
	`snapshot_date` text NOT NULL,
	`subscribers` integer,
	`uniq_subscribers` integer,
	`orders` integer,
	`sales` integer,
	`uniq_sales` integer,
	`visits` integer,
	`uniq_visits` integer,
	`shows` integer,
	`uniq_shows` integer,
	`total_sale` real,
	`total_expenses` real,
	`raw` text NOT NULL,
	`synced_at` text NOT NULL,
	PRIMARY KEY(`tunnel_id`, `snapshot_date`)
);
--> statement-breakpoint
CREATE TABLE `tunnels` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`created_at` text,
	`updated_at` text,
	`raw` text NOT NULL,
	`detail_raw` text,
	`synced_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`created_at` text,
	`updated_at` text,
	`raw` text NOT NULL,
	`synced_at` text NOT NULL
);
