CREATE TABLE `rollup_funnel_daily` (
	`day` text PRIMARY KEY NOT NULL,
	`new_people` integer NOT NULL,
	`people_wrote` integer NOT NULL,
	`people_ordered` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rollup_messages_daily` (
	`day` text NOT NULL,
	`source` text,
	`type` text,
	`messages` integer NOT NULL,
	`channels` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rollup_orders_daily` (
	`day` text NOT NULL,
	`currency` text,
	`status` text NOT NULL,
	`orders` integer NOT NULL,
	`amount` real NOT NULL,
	`revenue` real NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rollup_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`refreshed_at` text NOT NULL,
	`ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rollup_tag_membership` (
	`tag` text PRIMARY KEY NOT NULL,
	`people` integer NOT NULL
);
