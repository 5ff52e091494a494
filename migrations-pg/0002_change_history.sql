CREATE TABLE "order_status_history" (
	"order_id" text NOT NULL,
	"status" text,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "person_tag_history" (
	"person_id" text NOT NULL,
	"tag" text NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "order_status_history_open_idx" ON "order_status_history" USING btree ("order_id","valid_to");--> statement-breakpoint
CREATE INDEX "person_tag_history_open_idx" ON "person_tag_history" USING btree ("person_id","tag","valid_to");