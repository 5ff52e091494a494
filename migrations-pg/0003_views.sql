-- The analyst views of migrations/0004_views.sql, for PostgreSQL (docs/schema.md documents every
-- column and where the types differ: jsonb for the JSON columns, timestamptz for times, date for
-- days). Live rows only (deleted_at IS NULL); days are `(ts AT TIME ZONE 'UTC')::date`, so they
-- are UTC days whatever the session's TimeZone. Counts are cast to integer, as in the rollup
-- tables, so sums over them stay integers rather than numeric. Ties and arrays are ordered with
-- COLLATE "C" (code points), as SQLite's BINARY orders them, whatever the database's collation.
-- The normalised order status is defined once, in orders_current; the other views read it there.
CREATE VIEW "orders_current" AS
SELECT o.id AS id,
       o.person_id AS person_id,
       o.title AS title,
       o.price AS price,
       o.currency AS currency,
       CASE upper(coalesce(o.status, o.detail_raw ->> 'status'))
         WHEN 'OPENED' THEN 'open'
         WHEN 'ORDER' THEN 'open'
         WHEN 'PENDING' THEN 'open'
         WHEN 'RESOLVED' THEN 'paid'
         WHEN 'SUCCESS' THEN 'paid'
         WHEN 'FAILED' THEN 'failed'
         WHEN 'REFUNDED' THEN 'refunded'
         WHEN 'REJECTED' THEN 'cancelled'
         ELSE 'other'
       END AS status,
       o.status AS list_status,
       o.detail_raw ->> 'status' AS detail_status,
       o.payment_method AS payment_method,
       o.created_at AS created_at,
       o.updated_at AS updated_at,
       (o.created_at AT TIME ZONE 'UTC')::date AS day,
       p.name AS person_name,
       p.email AS person_email,
       p.phone AS person_phone
FROM orders o
LEFT JOIN people p ON p.id = o.person_id AND p.deleted_at IS NULL
WHERE o.deleted_at IS NULL;
--> statement-breakpoint
CREATE VIEW "people_current" AS
SELECT p.id AS id,
       p.name AS name,
       p.email AS email,
       p.phone AS phone,
       p.gender AS gender,
       p.locale AS locale,
       p.created_at AS created_at,
       p.updated_at AS updated_at,
       p.last_message_time AS last_message_time,
       (SELECT coalesce(jsonb_agg(t.tag ORDER BY t.tag COLLATE "C"), '[]'::jsonb) FROM person_tags t WHERE t.person_id = p.id) AS tags,
       (SELECT coalesce(jsonb_object_agg(cf.name, cf.value), '{}'::jsonb) FROM custom_fields cf
          WHERE cf.person_id = p.id
            AND cf.ordinal = (SELECT max(c2.ordinal) FROM custom_fields c2 WHERE c2.person_id = cf.person_id AND c2.name = cf.name)) AS custom_fields,
       (SELECT c.source FROM communication_channels c
          WHERE c.person_id = p.id AND c.deleted_at IS NULL
          ORDER BY c.created_at ASC NULLS LAST, c.id COLLATE "C" LIMIT 1) AS first_channel_source,
       (SELECT count(*)::integer FROM communication_channels c WHERE c.person_id = p.id AND c.deleted_at IS NULL) AS channels,
       (SELECT count(*)::integer FROM orders o WHERE o.person_id = p.id AND o.deleted_at IS NULL) AS orders,
       (SELECT coalesce(sum(oc.price), 0) FROM orders_current oc WHERE oc.person_id = p.id AND oc.status = 'paid') AS revenue,
       (SELECT coalesce(jsonb_object_agg(r.currency, r.total), '{}'::jsonb) FROM (
          SELECT coalesce(oc.currency, '') AS currency, sum(oc.price) AS total FROM orders_current oc
          WHERE oc.person_id = p.id AND oc.status = 'paid' GROUP BY 1) r) AS revenue_by_currency
FROM people p
WHERE p.deleted_at IS NULL;
--> statement-breakpoint
CREATE VIEW "channels_current" AS
SELECT c.id AS id,
       c.person_id AS person_id,
       c.name AS name,
       c.source AS source,
       c.bot_status AS bot_status,
       c.last_message_time AS last_message_time,
       c.created_at AS created_at,
       c.utm_marks AS utm_marks,
       c.connection_id AS connection_id,
       c.connection_status AS connection_status,
       p.name AS person_name,
       p.email AS person_email
FROM communication_channels c
LEFT JOIN people p ON p.id = c.person_id AND p.deleted_at IS NULL
WHERE c.deleted_at IS NULL;
--> statement-breakpoint
CREATE VIEW "messages_daily" AS
SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day,
       c.source AS source,
       m.type AS type,
       count(*)::integer AS messages,
       count(DISTINCT m.channel_id)::integer AS channels
FROM chat_messages m
JOIN communication_channels c ON c.id = m.channel_id
WHERE m.deleted_at IS NULL AND c.deleted_at IS NULL AND m.created_at IS NOT NULL
GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE VIEW "orders_daily" AS
SELECT day,
       currency,
       status,
       count(*)::integer AS orders,
       coalesce(sum(price), 0) AS amount,
       CASE WHEN status = 'paid' THEN coalesce(sum(price), 0) ELSE 0 END AS revenue
FROM orders_current
WHERE day IS NOT NULL
GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE VIEW "tag_membership" AS
SELECT t.tag AS tag,
       count(*)::integer AS people
FROM person_tags t
JOIN people p ON p.id = t.person_id AND p.deleted_at IS NULL
GROUP BY t.tag;
--> statement-breakpoint
CREATE VIEW "funnel_daily" AS
WITH new_people AS (
  SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM people
  WHERE deleted_at IS NULL AND created_at IS NOT NULL GROUP BY 1
), wrote AS (
  SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, count(DISTINCT c.person_id) AS n
  FROM chat_messages m
  JOIN communication_channels c ON c.id = m.channel_id AND c.deleted_at IS NULL
  JOIN people p ON p.id = c.person_id AND p.deleted_at IS NULL
  WHERE m.deleted_at IS NULL AND m.type = 'FRIEND_MESSAGE' AND m.created_at IS NOT NULL
  GROUP BY 1
), ordered AS (
  SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day, count(DISTINCT o.person_id) AS n
  FROM orders o
  JOIN people p ON p.id = o.person_id AND p.deleted_at IS NULL
  WHERE o.deleted_at IS NULL AND o.created_at IS NOT NULL
  GROUP BY 1
), days AS (
  SELECT day FROM new_people UNION SELECT day FROM wrote UNION SELECT day FROM ordered
)
SELECT d.day AS day,
       coalesce(np.n, 0)::integer AS new_people,
       coalesce(w.n, 0)::integer AS people_wrote,
       coalesce(od.n, 0)::integer AS people_ordered
FROM days d
LEFT JOIN new_people np ON np.day = d.day
LEFT JOIN wrote w ON w.day = d.day
LEFT JOIN ordered od ON od.day = d.day;
--> statement-breakpoint
-- Rebuilt with one column per custom-field name by refreshPgDerivedViews (src/db/views-pg.ts).
CREATE VIEW "people_custom_fields_wide" AS
SELECT p.id AS person_id FROM people p WHERE p.deleted_at IS NULL;
