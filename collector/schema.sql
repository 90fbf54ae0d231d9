-- schema.sql - the provincial archive's PostgreSQL schema, version 1
-- (docs/COLLECTOR.md). metrolog-collector embeds this file (pgschema.c is
-- generated from it at build time) and `metrolog-collector init` applies
-- it once; the version is in metrolog_schema. Every write of the collector
-- is idempotent: readings are keyed by (channel, ts), the messages of a
-- gateway by (site, seq), so a message delivered twice, replayed or
-- handled by two collectors lands once (INSERT ... ON CONFLICT DO NOTHING).

CREATE TABLE metrolog_schema (version integer NOT NULL);
INSERT INTO metrolog_schema VALUES (1);

-- a site is a gateway: the <site> level of its topics
CREATE TABLE sites (
	id          serial PRIMARY KEY,
	name        text NOT NULL UNIQUE,
	created_at  timestamptz NOT NULL DEFAULT now(),
	checked_seq bigint NOT NULL DEFAULT 0 -- every seq <= this is held or in gaps
);

CREATE TABLE instruments (
	id      serial PRIMARY KEY,
	site_id integer NOT NULL REFERENCES sites,
	name    text NOT NULL,
	UNIQUE (site_id, name)
);

CREATE TABLE channels (
	id            serial PRIMARY KEY,
	instrument_id integer NOT NULL REFERENCES instruments,
	name          text NOT NULL,
	unit          text NOT NULL, -- as first received
	UNIQUE (instrument_id, name)
);

-- every message of a gateway's outbox (readings, events, statuses): the
-- ledger of what the archive holds, by seq; partitioned by ts like readings
CREATE TABLE messages (
	site_id       integer NOT NULL,
	seq           bigint NOT NULL,
	ts            timestamptz NOT NULL,
	kind          text NOT NULL CHECK (kind IN ('readings', 'events', 'status')),
	instrument_id integer NOT NULL,
	historical    boolean NOT NULL,
	received_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (site_id, seq, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE readings (
	channel_id integer NOT NULL,
	ts         timestamptz NOT NULL,
	value      double precision, -- NULL unless quality is good
	quality    text NOT NULL,    -- good, timeout, exception, ... (docs/MQTT.md)
	seq        bigint NOT NULL,  -- the message's
	PRIMARY KEY (channel_id, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE events (
	site_id       integer NOT NULL REFERENCES sites,
	seq           bigint NOT NULL,
	ts            timestamptz NOT NULL,
	instrument_id integer NOT NULL REFERENCES instruments,
	event         text NOT NULL,
	channel       text,
	from_state    text,
	to_state      text,
	reason        text,
	detail        text,
	payload       jsonb NOT NULL, -- the whole message, as published
	PRIMARY KEY (site_id, seq)
);

CREATE TABLE statuses (
	site_id       integer NOT NULL REFERENCES sites,
	seq           bigint NOT NULL,
	ts            timestamptz NOT NULL,
	instrument_id integer NOT NULL REFERENCES instruments,
	state         text,
	reason        text,
	payload       jsonb NOT NULL,
	PRIMARY KEY (site_id, seq)
);

-- the last <prefix>/<site>/gateway/status received (not from the outbox)
CREATE TABLE gateway_status (
	site_id     integer PRIMARY KEY REFERENCES sites,
	state       text,
	reason      text,
	ts          timestamptz, -- NULL for the Last Will
	payload     jsonb NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now()
);

-- holes in a site's seq: seq_from..seq_to were not held when seen_at
-- (the message after them had been held gap_settle_ms); filled_at once
-- every one of them is
CREATE TABLE gaps (
	site_id   integer NOT NULL REFERENCES sites,
	seq_from  bigint NOT NULL,
	seq_to    bigint NOT NULL,
	seen_at   timestamptz NOT NULL DEFAULT now(),
	filled_at timestamptz,
	PRIMARY KEY (site_id, seq_from)
);

-- the id of a site, instrument, channel, made when first seen (two
-- collectors may race: the loser's insert does nothing, its select finds)
CREATE FUNCTION metrolog_site(p_site text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE r integer;
BEGIN
	SELECT id INTO r FROM sites WHERE name = p_site;
	IF r IS NULL THEN
		INSERT INTO sites (name) VALUES (p_site) ON CONFLICT DO NOTHING
		RETURNING id INTO r;
		IF r IS NULL THEN
			SELECT id INTO r FROM sites WHERE name = p_site;
		END IF;
	END IF;
	RETURN r;
END $$;

CREATE FUNCTION metrolog_instrument(p_site text, p_inst text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE s integer := metrolog_site(p_site); r integer;
BEGIN
	SELECT id INTO r FROM instruments WHERE site_id = s AND name = p_inst;
	IF r IS NULL THEN
		INSERT INTO instruments (site_id, name) VALUES (s, p_inst)
		ON CONFLICT DO NOTHING RETURNING id INTO r;
		IF r IS NULL THEN
			SELECT id INTO r FROM instruments
			WHERE site_id = s AND name = p_inst;
		END IF;
	END IF;
	RETURN r;
END $$;

CREATE FUNCTION metrolog_channel(p_site text, p_inst text, p_ch text,
                                 p_unit text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE i integer := metrolog_instrument(p_site, p_inst); r integer;
BEGIN
	SELECT id INTO r FROM channels WHERE instrument_id = i AND name = p_ch;
	IF r IS NULL THEN
		INSERT INTO channels (instrument_id, name, unit)
		VALUES (i, p_ch, coalesce(p_unit, ''))
		ON CONFLICT DO NOTHING RETURNING id INTO r;
		IF r IS NULL THEN
			SELECT id INTO r FROM channels
			WHERE instrument_id = i AND name = p_ch;
		END IF;
	END IF;
	RETURN r;
END $$;

-- the monthly partitions (UTC months) of readings and messages holding
-- p_ts, made if missing: readings_2026_11, messages_2026_11
CREATE FUNCTION metrolog_partition(p_ts timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	m timestamp := date_trunc('month', p_ts AT TIME ZONE 'UTC');
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['readings', 'messages'] LOOP
		BEGIN
			EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I '
			               'FOR VALUES FROM (%L) TO (%L)',
			               t || to_char(m, '_YYYY_MM'), t,
			               (m AT TIME ZONE 'UTC')::text,
			               ((m + interval '1 month') AT TIME ZONE 'UTC')::text);
		EXCEPTION WHEN duplicate_table OR unique_violation THEN
			NULL; -- another collector made it first
		END;
	END LOOP;
END $$;

-- retention: drop every monthly partition of readings and messages that
-- ends at or before p_cutoff; returns the tables dropped
CREATE FUNCTION metrolog_drop_before(p_cutoff timestamptz) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
	FOR r IN SELECT c.relname FROM pg_inherits i
	         JOIN pg_class c ON c.oid = i.inhrelid
	         JOIN pg_class p ON p.oid = i.inhparent
	         WHERE p.relname IN ('readings', 'messages')
	           AND c.relname ~ '_[0-9]{4}_[0-9]{2}$'
	         ORDER BY c.relname LOOP
		IF (to_timestamp(right(r.relname, 7), 'YYYY_MM')::timestamp
		    + interval '1 month') AT TIME ZONE 'UTC' <= p_cutoff THEN
			EXECUTE format('DROP TABLE %I', r.relname);
			RETURN NEXT r.relname;
		END IF;
	END LOOP;
END $$;

-- record the holes of every site's seq that are settled: the message
-- after the hole was received p_settle ago or more (through a share group
-- the messages of a site arrive out of order); mark the gaps now filled.
-- Returns how many gaps were recorded.
CREATE FUNCTION metrolog_check_gaps(p_settle interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	s record;
	cutoff timestamptz := clock_timestamp() - p_settle;
	upto bigint;
	top bigint;
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
		IF top IS NOT NULL THEN
			UPDATE sites SET checked_seq = greatest(checked_seq, top)
			WHERE id = s.id;
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

-- per site: the last seq published (as far as the archive knows), how
-- many messages it holds, how many are missing, when it last heard
CREATE VIEW completeness AS
SELECT s.name AS site, max(m.seq) AS last_seq, count(m.seq) AS held,
       coalesce(max(m.seq), 0) - count(m.seq) AS missing,
       max(m.received_at) AS last_received,
       now() - max(m.ts) AS lag
FROM sites s LEFT JOIN messages m ON m.site_id = s.id
GROUP BY s.name;
