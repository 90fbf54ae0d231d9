-- schema-4.sql - the provincial archive's schema, version 3 -> 4
-- (docs/PROVINCE-QUERIES.md): what the province asks its archive. An
-- enterprise across labs (customers, calibrations_in_force,
-- enterprise_instruments), per lab the time each instrument was online and
-- each channel out of tolerance over a period (metrolog_availability,
-- metrolog_tolerance_time), and the instruments' models for the pooled
-- interval analysis (instrument_models, which the province fills: the
-- gateways do not publish a model with their records). Only views,
-- functions, one table and indexes: nothing the collector writes changes.

UPDATE metrolog_schema SET version = 4;

-- The key an enterprise is matched on across labs. Each lab has its own
-- customer ids and publishes none (docs/MQTT.md: a record carries the
-- customer's legal name, address and contact, no tax code), so the
-- province matches the legal name, normalised: Unicode NFKC (a name typed
-- with combining accents equals the precomposed one), lower case by ICU
-- (Vietnamese capitals included, whatever the database's locale), every
-- run of spaces and punctuation one space, trimmed. 'ACME Co., Ltd.' and
-- ' acme co ltd' are one enterprise; 'ACME Company Limited' is another.
CREATE FUNCTION metrolog_enterprise_key(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN btrim(regexp_replace(lower(normalize(p_name, NFKC) COLLATE "und-x-icu"),
                            '[[:space:][:punct:]]+', ' ', 'g'));

CREATE INDEX cal_records_enterprise
	ON cal_records (metrolog_enterprise_key(customer));
CREATE INDEX cal_records_instrument ON cal_records (instrument_id, performed);
CREATE INDEX cal_records_supersedes ON cal_records (site_id, supersedes)
	WHERE supersedes IS NOT NULL;
CREATE INDEX events_instrument ON events (instrument_id, ts);
CREATE INDEX statuses_instrument ON statuses (instrument_id, ts);

-- A lab's customers as its records name them: one row per site and legal
-- name; address and contact from its latest record. customer_id is the
-- lab's own id of the customer: metrologd does not publish it (NULL).
CREATE VIEW customers AS
SELECT s.name AS site, NULL::text AS customer_id,
       metrolog_enterprise_key(c.customer) AS enterprise,
       c.customer AS legal_name,
       (array_agg(c.customer_address ORDER BY c.record DESC))[1] AS address,
       (array_agg(c.customer_contact ORDER BY c.record DESC))[1] AS contact,
       count(DISTINCT c.instrument_id) AS instruments,
       count(*) AS records,
       max(c.performed) AS last_performed
FROM cal_records c JOIN sites s ON s.id = c.site_id
WHERE metrolog_enterprise_key(c.customer) <> ''
GROUP BY s.name, c.customer;

-- The due state at p_at of a calibration due at p_due: none (no due
-- date), overdue (p_at past the due instant), due_soon (within p_soon of
-- it), ok. The province's clock, in UTC; the lab's own state (its local
-- date, its due_soon_days) is lab_due_state in calibrations_in_force.
CREATE FUNCTION metrolog_due_state(p_due timestamptz, p_at timestamptz,
                                   p_soon interval) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_due IS NULL THEN 'none'
            WHEN p_at > p_due THEN 'overdue'
            WHEN p_at > p_due - p_soon THEN 'due_soon'
            ELSE 'ok' END;

-- Per instrument of every site: the calibration in force (the latest
-- performed record that no other record supersedes), its latest
-- approval, its due state now (30 days: due_soon), the lab's own due
-- state from the instrument's latest status, and every certificate of the
-- instrument (superseded ones too) in record order.
CREATE VIEW calibrations_in_force AS
SELECT DISTINCT ON (c.site_id, c.instrument_id)
       s.name AS site, i.name AS instrument,
       metrolog_enterprise_key(c.customer) AS enterprise,
       c.customer, c.customer_address, c.record, c.certificate,
       c.performed, c.issued, c.due, c.interval_days,
       metrolog_due_state(c.due, now(), interval '30 days') AS due_state,
       st.payload #>> '{calibration,state}' AS lab_due_state,
       c.result_as_found, c.result_as_left, c.rule,
       c.standard, c.standard_certificate, c.lab, c.technician, c.hash,
       CASE WHEN ap.approval IS NULL THEN 'not approved'
            WHEN ap.record_hash = c.hash THEN 'approved'
            ELSE 'approval of another hash' END AS approval,
       ap.approved, ap.approver, ap.role,
       (SELECT array_agg(x.certificate ORDER BY x.record)
        FROM cal_records x
        WHERE x.site_id = c.site_id AND x.instrument_id = c.instrument_id)
               AS certificates
FROM cal_records c
JOIN sites s ON s.id = c.site_id
JOIN instruments i ON i.id = c.instrument_id
LEFT JOIN LATERAL (SELECT a.approval, a.record_hash, a.approved,
                          a.approver, a.role
                   FROM cal_approvals a
                   WHERE a.site_id = c.site_id AND a.record = c.record
                   ORDER BY a.approval DESC LIMIT 1) ap ON true
LEFT JOIN LATERAL (SELECT t.payload FROM statuses t
                   WHERE t.instrument_id = c.instrument_id
                     AND t.payload ? 'calibration'
                   ORDER BY t.ts DESC, t.seq DESC LIMIT 1) st ON true
WHERE NOT EXISTS (SELECT 1 FROM cal_records x
                  WHERE x.site_id = c.site_id AND x.supersedes = c.record)
ORDER BY c.site_id, c.instrument_id, c.performed DESC NULLS LAST,
         c.record DESC;

-- An enterprise's instruments in every lab: those whose calibration in
-- force names it as the customer (an instrument sold since belongs to
-- the customer of its latest calibration).
-- SELECT * FROM enterprise_instruments
-- WHERE enterprise = metrolog_enterprise_key('ACME Co., Ltd.');
CREATE VIEW enterprise_instruments AS
SELECT * FROM calibrations_in_force WHERE enterprise <> '';

-- The seconds each instrument (channel '') spent online, offline and
-- failing, and each tolerance channel in each tolerance state, within
-- [p_from, p_to): from the events archived, each state lasting from its
-- event to the next of the same instrument (or channel), in (ts, seq)
-- order. Before an instrument's first event its state is unknown (no
-- row). Exact: intervals of microseconds, numeric seconds.
CREATE FUNCTION metrolog_state_seconds(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (site_id integer, instrument_id integer, channel text,
               state text, seconds numeric)
LANGUAGE sql STABLE AS $$
WITH ev AS (
	SELECT e.site_id, e.instrument_id,
	       CASE WHEN e.event = 'tolerance' THEN e.channel ELSE '' END
	               AS channel,
	       CASE WHEN e.event = 'tolerance' THEN e.to_state ELSE e.event END
	               AS state,
	       e.ts, e.seq
	FROM events e
	WHERE e.ts < p_to
	  AND (e.event IN ('online', 'offline', 'failing')
	       OR (e.event = 'tolerance' AND e.channel IS NOT NULL
	           AND e.to_state IS NOT NULL))),
sp AS (
	SELECT ev.site_id, ev.instrument_id, ev.channel, ev.state,
	       greatest(ev.ts, p_from) AS a,
	       least(coalesce(lead(ev.ts) OVER w, p_to), p_to) AS b
	FROM ev
	WINDOW w AS (PARTITION BY ev.site_id, ev.instrument_id, ev.channel
	             ORDER BY ev.ts, ev.seq))
SELECT sp.site_id, sp.instrument_id, sp.channel, sp.state,
       sum(extract(epoch FROM sp.b - sp.a))
FROM sp WHERE sp.b > sp.a
GROUP BY sp.site_id, sp.instrument_id, sp.channel, sp.state
$$;

-- Per instrument that has had an online, offline or failing event before
-- p_to: seconds online, offline, failing and unknown (before its first
-- event) within [p_from, p_to), and the fraction online of the period.
CREATE FUNCTION metrolog_availability(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (site text, instrument text, period_s numeric,
               online_s numeric, offline_s numeric, failing_s numeric,
               unknown_s numeric, online_fraction double precision)
LANGUAGE plpgsql STABLE AS $$
DECLARE period numeric := extract(epoch FROM p_to - p_from);
BEGIN
	IF NOT period > 0 THEN
		RAISE EXCEPTION 'the period''s end % is not after its start %',
		      p_to, p_from;
	END IF;
	RETURN QUERY
	SELECT s.name, i.name, period,
	       coalesce(sum(t.seconds) FILTER (WHERE t.state = 'online'), 0),
	       coalesce(sum(t.seconds) FILTER (WHERE t.state = 'offline'), 0),
	       coalesce(sum(t.seconds) FILTER (WHERE t.state = 'failing'), 0),
	       period - coalesce(sum(t.seconds), 0),
	       (coalesce(sum(t.seconds) FILTER (WHERE t.state = 'online'), 0)
	        / period)::float8
	FROM instruments i
	JOIN sites s ON s.id = i.site_id
	LEFT JOIN metrolog_state_seconds(p_from, p_to) t
	       ON t.instrument_id = i.id AND t.channel = ''
	WHERE EXISTS (SELECT 1 FROM events e
	              WHERE e.instrument_id = i.id AND e.ts < p_to
	                AND e.event IN ('online', 'offline', 'failing'))
	GROUP BY s.name, i.name
	ORDER BY s.name, i.name;
END $$;

-- Per channel that has had a tolerance event before p_to: seconds in
-- each tolerance state and unknown within [p_from, p_to), and the
-- fractions of the period out of tolerance and in warning.
CREATE FUNCTION metrolog_tolerance_time(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (site text, instrument text, channel text, period_s numeric,
               in_tolerance_s numeric, warning_s numeric,
               out_of_tolerance_s numeric, no_data_s numeric,
               unknown_s numeric, warning_fraction double precision,
               out_of_tolerance_fraction double precision)
LANGUAGE plpgsql STABLE AS $$
DECLARE period numeric := extract(epoch FROM p_to - p_from);
BEGIN
	IF NOT period > 0 THEN
		RAISE EXCEPTION 'the period''s end % is not after its start %',
		      p_to, p_from;
	END IF;
	RETURN QUERY
	WITH chs AS (SELECT DISTINCT e.instrument_id, e.channel FROM events e
	             WHERE e.event = 'tolerance' AND e.channel IS NOT NULL
	               AND e.to_state IS NOT NULL AND e.ts < p_to),
	     t AS (SELECT * FROM metrolog_state_seconds(p_from, p_to) x
	           WHERE x.channel <> ''),
	     w AS (SELECT s.name, i.name AS inst, chs.channel,
	                  coalesce(sum(t.seconds) FILTER
	                           (WHERE t.state = 'in_tolerance'), 0) AS ok,
	                  coalesce(sum(t.seconds) FILTER
	                           (WHERE t.state = 'warning'), 0) AS warn,
	                  coalesce(sum(t.seconds) FILTER
	                           (WHERE t.state = 'out_of_tolerance'), 0)
	                          AS oot,
	                  coalesce(sum(t.seconds) FILTER
	                           (WHERE t.state = 'no_data'), 0) AS nodata,
	                  coalesce(sum(t.seconds), 0) AS known
	           FROM chs
	           JOIN instruments i ON i.id = chs.instrument_id
	           JOIN sites s ON s.id = i.site_id
	           LEFT JOIN t ON t.instrument_id = chs.instrument_id
	                      AND t.channel = chs.channel
	           GROUP BY s.name, i.name, chs.channel)
	SELECT w.name, w.inst, w.channel, period, w.ok, w.warn, w.oot,
	       w.nodata, period - w.known, (w.warn / period)::float8,
	       (w.oot / period)::float8
	FROM w ORDER BY w.name, w.inst, w.channel;
END $$;

-- The model of an instrument, as the province knows it (from the lab's
-- register or a records reply, docs/MQTT.md, which carries it): the
-- gateways' records and statuses do not. `metrolog-collector interval
-- --model M` pools the instruments listed here with model M.
CREATE TABLE instrument_models (
	instrument_id integer PRIMARY KEY REFERENCES instruments,
	model         text NOT NULL CHECK (model <> ''),
	source        text NOT NULL DEFAULT '', -- where the province read it
	set_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instrument_models_model ON instrument_models (model);

-- Set (or change) the model of a site's instrument, made if not yet
-- seen: SELECT metrolog_set_model('lab-1', 'TB-01', 'Fluke 1524', 'register').
CREATE FUNCTION metrolog_set_model(p_site text, p_inst text, p_model text,
                                   p_source text DEFAULT '') RETURNS void
LANGUAGE sql AS $$
INSERT INTO instrument_models (instrument_id, model, source)
VALUES (metrolog_instrument(p_site, p_inst), p_model, coalesce(p_source, ''))
ON CONFLICT (instrument_id) DO UPDATE
SET model = EXCLUDED.model, source = EXCLUDED.source, set_at = now()
$$;

-- The as-found history of every instrument of model p_model, point by
-- point (quantity, unit, reference), for the pooled interval analysis:
-- the records no other record supersedes, with a performed time, the
-- first point of a record at each (quantity, unit, reference), as
-- `metrolog calibrate` follows a point (tools/calibrate.c). day: days
-- since 1970-01-01 of performed (UTC).
CREATE FUNCTION metrolog_model_history(p_model text)
RETURNS TABLE (site text, instrument text, quantity text, unit text,
               reference double precision, record bigint, day bigint,
               as_found double precision, as_left double precision,
               lower_limit double precision, upper_limit double precision,
               u_expanded double precision, k double precision)
LANGUAGE sql STABLE AS $$
SELECT DISTINCT ON (p.quantity, p.unit, p.reference, s.name, i.name,
                    c.performed, c.record)
       s.name, i.name, p.quantity, p.unit, p.reference, c.record,
       floor(extract(epoch FROM c.performed) / 86400)::bigint,
       p.as_found, p.as_left, p.lower_limit, p.upper_limit, p.u_expanded,
       p.k
FROM instrument_models m
JOIN instruments i ON i.id = m.instrument_id
JOIN sites s ON s.id = i.site_id
JOIN cal_records c ON c.site_id = i.site_id AND c.instrument_id = i.id
JOIN cal_points p ON p.site_id = c.site_id AND p.record = c.record
WHERE m.model = p_model AND c.performed IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM cal_records x
                  WHERE x.site_id = c.site_id AND x.supersedes = c.record)
ORDER BY p.quantity, p.unit, p.reference, s.name, i.name, c.performed,
         c.record, p.n
$$;
