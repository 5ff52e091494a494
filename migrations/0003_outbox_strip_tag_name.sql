-- Custom (drizzle-kit generate --custom): the outbox no longer accepts tag_name from outside;
-- the worker looks a tag's name up in the mirror. Rows stored before still carry it.
UPDATE `outbound_writes` SET `payload` = json_remove(`payload`, '$.tag_name')
WHERE `kind` IN ('add-tag', 'remove-tag') AND `status` NOT IN ('succeeded', 'cancelled')
  AND json_valid(`payload`) AND json_type(`payload`) = 'object' AND json_type(`payload`, '$.tag_name') IS NOT NULL;
