-- schema-6.sql - the provincial archive's schema, version 5 -> 6
-- (docs/PROVINCE-QUERIES.md): what metrologd now publishes with each
-- calibration record (docs/MQTT.md, calibrations), the customer's id (its
-- tax code or registration number as the lab records it) and the item's
-- model as configured when the record was written. An enterprise is
-- matched across labs on the id when a record has one, else on the legal
-- name as before; the gateways' models fill instrument_models.

UPDATE metrolog_schema SET version = 6;

-- '' in the records archived before (and in those of a gateway that
-- publishes neither): both are in the record's hash when not ''.
ALTER TABLE cal_records
	ADD COLUMN customer_id text NOT NULL DEFAULT '',
	ADD COLUMN model text NOT NULL DEFAULT '';

-- A customer id as a key: Unicode NFKC, every character but letters and
-- digits dropped, letters upper case. '0101234567-001', '0101 234 567 001'
-- and '0101234567001' are one id; '' when the id has no letter or digit.
CREATE FUNCTION metrolog_customer_id_key(p_id text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN upper(regexp_replace(normalize(p_id, NFKC), '[^[:alnum:]]+', '', 'g')
             COLLATE "und-x-icu");

-- The enterprise a record names, the one rule of docs/PROVINCE-QUERIES.md:
-- 'id:' and the key of its customer id when it has one, else the key of
-- its legal name (metrolog_enterprise_key, which never holds ':', so the
-- two kinds never meet); '' when it has neither.
CREATE FUNCTION metrolog_record_enterprise(p_customer_id text,
                                           p_customer text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN metrolog_customer_id_key(coalesce(p_customer_id, '')) <> ''
            THEN 'id:' || metrolog_customer_id_key(p_customer_id)
            ELSE metrolog_enterprise_key(coalesce(p_customer, '')) END;

-- The enterprise of a customer id typed by a person ('' : none).
CREATE FUNCTION metrolog_id_enterprise(p_id text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN metrolog_record_enterprise(p_id, '');

CREATE INDEX cal_records_record_enterprise
	ON cal_records (metrolog_record_enterprise(customer_id, customer));

-- A lab's customers as its records name them: one row per site,
-- enterprise and legal name as spelt; the customer id (NULL: none
-- recorded), address and contact from its latest record.
CREATE OR REPLACE VIEW customers AS
SELECT s.name AS site,
       nullif((array_agg(c.customer_id ORDER BY c.record DESC))[1], '')
               AS customer_id,
       metrolog_record_enterprise(c.customer_id, c.customer) AS enterprise,
       c.customer AS legal_name,
       (array_agg(c.customer_address ORDER BY c.record DESC))[1] AS address,
       (array_agg(c.customer_contact ORDER BY c.record DESC))[1] AS contact,
       count(DISTINCT c.instrument_id) AS instruments,
       count(*) AS records,
       max(c.performed) AS last_performed
FROM cal_records c JOIN sites s ON s.id = c.site_id
WHERE metrolog_record_enterprise(c.customer_id, c.customer) <> ''
GROUP BY s.name, metrolog_record_enterprise(c.customer_id, c.customer),
         c.customer;

-- As schema-4.sql's, the enterprise by the rule above; the record's
-- customer id and the item's model at its end.
CREATE OR REPLACE VIEW calibrations_in_force AS
SELECT DISTINCT ON (c.site_id, c.instrument_id)
       s.name AS site, i.name AS instrument,
       metrolog_record_enterprise(c.customer_id, c.customer) AS enterprise,
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
               AS certificates,
       c.customer_id, c.model
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

CREATE OR REPLACE VIEW enterprise_instruments AS
SELECT * FROM calibrations_in_force WHERE enterprise <> '';

-- The gateways' models into instrument_models, source 'gateway': a record
-- archived with a model sets its instrument's, unless the province set
-- one itself (a row of another source: metrolog_set_model, which wins
-- and stays) or a later record of the instrument (a higher record
-- number of its site) is already archived with a model (replays and
-- repairs arrive in any order). 'gateway' is this trigger's source.
CREATE FUNCTION metrolog_model_from_record() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM cal_records x
	           WHERE x.site_id = NEW.site_id
	             AND x.instrument_id = NEW.instrument_id
	             AND x.record > NEW.record AND x.model <> '') THEN
		RETURN NULL;
	END IF;
	INSERT INTO instrument_models AS m (instrument_id, model, source)
	VALUES (NEW.instrument_id, NEW.model, 'gateway')
	ON CONFLICT (instrument_id) DO UPDATE
	SET model = EXCLUDED.model, set_at = now()
	WHERE m.source = 'gateway' AND m.model <> EXCLUDED.model;
	RETURN NULL;
END $$;

CREATE TRIGGER cal_records_model AFTER INSERT ON cal_records
FOR EACH ROW WHEN (NEW.model <> '')
EXECUTE FUNCTION metrolog_model_from_record();
