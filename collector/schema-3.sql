-- schema-3.sql - the provincial archive's schema, version 2 -> 3
-- (docs/COLLECTOR.md, Repair by replay): holes in a site's seq are asked
-- for again from the gateway (docs/MQTT.md, Replay); what it cannot send
-- is kept in unrepairable, per site and seq range, with its time range
-- when the gateway knows it and why; completeness counts both.

UPDATE metrolog_schema SET version = 3;

-- a gap's repair: when it was last asked for, how often, not before when
-- again (NULL: now), and closed_at once every seq of it is held or
-- unrepairable (nothing left to ask)
ALTER TABLE gaps ADD COLUMN asked_at timestamptz;
ALTER TABLE gaps ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE gaps ADD COLUMN next_ask_at timestamptz;
ALTER TABLE gaps ADD COLUMN closed_at timestamptz;

-- seqs a gateway said it cannot replay: reason 'retention' (the lab's
-- retention deleted the readings; ts_from..ts_to their times) or
-- 'not_kept' (the gateway kept no record of them: sent before it kept
-- one, or never stored); times NULL when not known
CREATE TABLE unrepairable (
	site_id     integer NOT NULL REFERENCES sites,
	seq_from    bigint NOT NULL,
	seq_to      bigint NOT NULL,
	ts_from     timestamptz,
	ts_to       timestamptz,
	reason      text NOT NULL,
	reported_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (site_id, seq_from)
);

-- the gaps to ask for now, at most one per site (the lowest open one of
-- a site none of whose gaps waits: for a reply or its back-off), each
-- claimed under a row lock so that two collectors never both ask: its
-- attempts counted, asked_at now, next_ask_at after p_wait doubled per
-- attempt up to p_max. The range asked: from its first seq neither held
-- nor unrepairable, p_span seqs at most. A gap with no such seq is closed.
CREATE FUNCTION metrolog_repairs_due(p_span bigint, p_wait interval,
                                     p_max interval)
RETURNS TABLE (site text, ask_from bigint, ask_to bigint)
LANGUAGE plpgsql AS $$
DECLARE g record; a bigint;
BEGIN
	FOR g IN SELECT DISTINCT ON (gp.site_id) gp.site_id, gp.seq_from,
	                gp.seq_to, st.name
	         FROM gaps gp JOIN sites st ON st.id = gp.site_id
	         WHERE gp.filled_at IS NULL AND gp.closed_at IS NULL
	           AND NOT EXISTS (SELECT 1 FROM gaps w
	                           WHERE w.site_id = gp.site_id
	                             AND w.filled_at IS NULL
	                             AND w.closed_at IS NULL
	                             AND w.next_ask_at > clock_timestamp())
	         ORDER BY gp.site_id, gp.seq_from LOOP
		PERFORM 1 FROM gaps
		WHERE site_id = g.site_id AND seq_from = g.seq_from
		  AND (next_ask_at IS NULL OR next_ask_at <= clock_timestamp())
		FOR UPDATE SKIP LOCKED;
		IF NOT FOUND THEN
			CONTINUE; -- another collector has it
		END IF;
		SELECT min(x) INTO a
		FROM generate_series(g.seq_from, g.seq_to) AS x
		WHERE NOT EXISTS (SELECT 1 FROM messages m
		                  WHERE m.site_id = g.site_id AND m.seq = x)
		  AND NOT EXISTS (SELECT 1 FROM unrepairable u
		                  WHERE u.site_id = g.site_id
		                    AND x BETWEEN u.seq_from AND u.seq_to);
		IF a IS NULL THEN
			UPDATE gaps SET closed_at = now()
			WHERE site_id = g.site_id AND seq_from = g.seq_from;
			CONTINUE;
		END IF;
		UPDATE gaps SET asked_at = now(), attempts = attempts + 1,
		       next_ask_at = clock_timestamp() +
		                     least(p_wait * power(2, least(attempts, 16)),
		                           p_max)
		WHERE site_id = g.site_id AND seq_from = g.seq_from;
		site := g.name;
		ask_from := a;
		ask_to := least(g.seq_to, a + p_span - 1);
		RETURN NEXT;
	END LOOP;
END $$;

-- a gateway's reply to a replay request (docs/MQTT.md, Replay): its
-- missing ranges recorded as unrepairable, and the open gaps it covers
-- looked at again once p_settle has passed (the replayed messages are
-- committed by then, by whichever collector the broker gave them to).
-- Returns the unrepairable ranges recorded.
CREATE FUNCTION metrolog_replay_reply(p_site text, p_reply jsonb,
                                      p_settle interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE s integer := metrolog_site(p_site); m jsonb; n integer := 0;
BEGIN
	IF p_reply->>'status' IS DISTINCT FROM 'ok' THEN
		RETURN 0; -- an error: asked again after the back-off
	END IF;
	FOR m IN SELECT * FROM jsonb_array_elements(p_reply->'missing') LOOP
		INSERT INTO unrepairable (site_id, seq_from, seq_to, ts_from,
		                          ts_to, reason)
		VALUES (s, (m->>'from')::bigint, (m->>'to')::bigint,
		        (m->>'ts_from')::timestamptz, (m->>'ts_to')::timestamptz,
		        m->>'reason')
		ON CONFLICT (site_id, seq_from) DO UPDATE
		SET seq_to = greatest(unrepairable.seq_to, EXCLUDED.seq_to),
		    ts_from = coalesce(EXCLUDED.ts_from, unrepairable.ts_from),
		    ts_to = coalesce(EXCLUDED.ts_to, unrepairable.ts_to),
		    reason = EXCLUDED.reason, reported_at = now();
		n := n + 1;
	END LOOP;
	UPDATE gaps SET next_ask_at = clock_timestamp() + p_settle
	WHERE site_id = s AND filled_at IS NULL AND closed_at IS NULL
	  AND seq_to >= (p_reply->>'from')::bigint
	  AND seq_from <= (p_reply->>'to')::bigint;
	RETURN n;
END $$;

-- per site, as before, and: expected (the seqs 1..last_seq the gateway
-- published, as far as the archive knows), unrepairable (seqs not held
-- that the gateway cannot replay), to_repair (missing, less those)
CREATE OR REPLACE VIEW completeness AS
SELECT s.name AS site, max(m.seq) AS last_seq, count(m.seq) AS held,
       coalesce(max(m.seq), 0) - count(m.seq) AS missing,
       max(m.received_at) AS last_received,
       now() - max(m.ts) AS lag,
       coalesce(max(m.seq), 0) AS expected,
       u.n::bigint AS unrepairable,
       (coalesce(max(m.seq), 0) - count(m.seq) - u.n)::bigint AS to_repair
FROM sites s LEFT JOIN messages m ON m.site_id = s.id
CROSS JOIN LATERAL (
	SELECT coalesce(sum(r.seq_to - r.seq_from + 1), 0) -
	       (SELECT count(*) FROM messages h JOIN unrepairable v
	        ON v.site_id = h.site_id AND h.seq BETWEEN v.seq_from AND v.seq_to
	        WHERE h.site_id = s.id) AS n
	FROM unrepairable r WHERE r.site_id = s.id) AS u
GROUP BY s.id, s.name, u.n;
