-- schema-5.sql - the provincial archive's schema, version 4 -> 5
-- (docs/COLLECTOR.md, Completeness): a lost tail. A hole in a site's seq
-- was found only when a later message arrived, so the last messages of a
-- lab that then went quiet (stopped, or its broker lost them) were never
-- missed. The gateway's status now says up to which seq it had published
-- before it (last_seq, docs/MQTT.md): seqs up to it that are not held
-- once the status has settled are a gap like any other, asked for again,
-- and counted in completeness.

UPDATE metrolog_schema SET version = 5;

-- record the holes of every site's seq that are settled: the message
-- after the hole was received p_settle ago or more (through a share group
-- the messages of a site arrive out of order), or, after the last message
-- held, the gateway's status with last_seq received that long ago; mark
-- the gaps now filled. Returns how many gaps were recorded.
CREATE OR REPLACE FUNCTION metrolog_check_gaps(p_settle interval)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	s record;
	cutoff timestamptz := clock_timestamp() - p_settle;
	upto bigint;
	top bigint;
	tail bigint;
	k integer;
	n integer := 0;
BEGIN
	FOR s IN SELECT id, checked_seq FROM sites ORDER BY id LOOP
		SELECT min(seq) INTO upto FROM messages
		WHERE site_id = s.id AND seq > s.checked_seq
		  AND received_at >= cutoff;
		WITH r AS (SELECT seq FROM messages
		           WHERE site_id = s.id AND seq > s.checked_seq
		             AND (upto IS NULL OR seq < upto)
		           UNION ALL SELECT s.checked_seq),
		     w AS (SELECT seq, lead(seq) OVER (ORDER BY seq) AS nxt FROM r),
		     ins AS (INSERT INTO gaps (site_id, seq_from, seq_to)
		             SELECT s.id, seq + 1, nxt - 1 FROM w WHERE nxt > seq + 1
		             ON CONFLICT DO NOTHING RETURNING 1)
		SELECT count(*) INTO k FROM ins;
		n := n + k;
		SELECT max(seq) INTO top FROM messages
		WHERE site_id = s.id AND seq > s.checked_seq
		  AND (upto IS NULL OR seq < upto);
		top := greatest(s.checked_seq, top);
		IF upto IS NULL THEN
			-- every message held has settled: a tail the status
			-- names and nothing holds
			SELECT (g.payload->>'last_seq')::bigint INTO tail
			FROM gateway_status g
			WHERE g.site_id = s.id AND g.received_at < cutoff
			  AND jsonb_typeof(g.payload->'last_seq') = 'number';
			IF tail > top THEN
				INSERT INTO gaps (site_id, seq_from, seq_to)
				VALUES (s.id, top + 1, tail) ON CONFLICT DO NOTHING;
				GET DIAGNOSTICS k = ROW_COUNT;
				n := n + k;
				top := tail;
			END IF;
		END IF;
		IF top > s.checked_seq THEN
			UPDATE sites SET checked_seq = top WHERE id = s.id;
		END IF;
	END LOOP;
	UPDATE gaps g SET filled_at = now()
	WHERE filled_at IS NULL
	  AND (SELECT count(*) FROM messages m
	       WHERE m.site_id = g.site_id
	         AND m.seq BETWEEN g.seq_from AND g.seq_to)
	      = g.seq_to - g.seq_from + 1;
	RETURN n;
END $$;

-- as in version 3, with expected counting up to the gateway's last_seq
-- when that is above the last seq held (a tail not held yet, or lost)
CREATE OR REPLACE VIEW completeness AS
SELECT s.name AS site, max(m.seq) AS last_seq, count(m.seq) AS held,
       e.n - count(m.seq) AS missing,
       max(m.received_at) AS last_received,
       now() - max(m.ts) AS lag,
       e.n AS expected,
       u.n::bigint AS unrepairable,
       (e.n - count(m.seq) - u.n)::bigint AS to_repair
FROM sites s LEFT JOIN messages m ON m.site_id = s.id
CROSS JOIN LATERAL (
	SELECT coalesce(sum(r.seq_to - r.seq_from + 1), 0) -
	       (SELECT count(*) FROM messages h JOIN unrepairable v
	        ON v.site_id = h.site_id AND h.seq BETWEEN v.seq_from AND v.seq_to
	        WHERE h.site_id = s.id) AS n
	FROM unrepairable r WHERE r.site_id = s.id) AS u
CROSS JOIN LATERAL (
	SELECT greatest((SELECT max(seq) FROM messages x WHERE x.site_id = s.id),
	                (SELECT CASE WHEN jsonb_typeof(g.payload->'last_seq') =
	                                  'number'
	                             THEN (g.payload->>'last_seq')::bigint END
	                 FROM gateway_status g WHERE g.site_id = s.id),
	                0) AS n) AS e
GROUP BY s.id, s.name, u.n, e.n;
