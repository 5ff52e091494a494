-- Hand-edited after drizzle-kit generate: the copy must not select inflight_at, which the old table lacks.
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_outbound_writes` (
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
	`completed_at` text,
	`inflight_at` text,
	CONSTRAINT "outbound_writes_status_check" CHECK(status IN ('pending', 'queued', 'succeeded', 'failed', 'dead', 'ambiguous', 'cancelled'))
);
--> statement-breakpoint
INSERT INTO `__new_outbound_writes`("id", "kind", "target_id", "payload", "status", "attempts", "last_error", "api_response", "idempotency_key", "created_at", "updated_at", "completed_at") SELECT "id", "kind", "target_id", "payload", "status", "attempts", "last_error", "api_response", "idempotency_key", "created_at", "updated_at", "completed_at" FROM `outbound_writes`;--> statement-breakpoint
DROP TABLE `outbound_writes`;--> statement-breakpoint
ALTER TABLE `__new_outbound_writes` RENAME TO `outbound_writes`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `outbound_writes_idempotency_key_idx` ON `outbound_writes` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `outbound_writes_status_idx` ON `outbound_writes` (`status`);