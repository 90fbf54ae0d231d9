-- schema-2.sql - the provincial archive's schema, version 1 -> 2
-- (docs/COLLECTOR.md): the calibration records, their points and their
-- approvals, as the gateways publish them on <prefix>/<site>/calibrations
-- (docs/MQTT.md), every field their hashes cover, so that
-- `metrolog-collector verify` recomputes each lab's audit chain from these
-- rows with the gateway's own code (gateway/core/calib.c). Keyed by the
-- gateway's own ids: a record by (site, record id), an approval by (site,
-- approval id); a message delivered twice lands once.

UPDATE metrolog_schema SET version = 2;

ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check
	CHECK (kind IN ('readings', 'events', 'status', 'record', 'approval'));

-- times are the recorded microseconds exactly (NULL: 0, not given);
-- strings as recorded ('' stays ''); decisions by name (NULL: none)
CREATE TABLE cal_records (
	site_id              integer NOT NULL REFERENCES sites,
	record               bigint NOT NULL, -- its place in the lab's chain
	seq                  bigint NOT NULL, -- of the message that brought it
	instrument_id        integer NOT NULL REFERENCES instruments,
	certificate          text NOT NULL,
	rule_version         integer NOT NULL,
	prev_hash            text NOT NULL,
	hash                 text NOT NULL,
	supersedes           bigint,
	issued               timestamptz,
	performed            timestamptz,
	received             timestamptz,
	interval_days        integer NOT NULL,
	due                  timestamptz,
	standard             text NOT NULL,
	standard_certificate text NOT NULL,
	standard_due         timestamptz,
	standard_overdue     boolean NOT NULL,
	lab                  text NOT NULL,
	lab_address          text NOT NULL,
	lab_accreditation    text NOT NULL,
	customer             text NOT NULL,
	customer_address     text NOT NULL,
	customer_contact     text NOT NULL,
	location             text NOT NULL,
	item_condition       text NOT NULL,
	method               text NOT NULL,
	specification        text NOT NULL,
	conditions           text NOT NULL,
	deviations           text NOT NULL,
	technician           text NOT NULL,
	authorised           text NOT NULL,
	remarks              text NOT NULL,
	standard_reason      text NOT NULL,
	amendment            text NOT NULL,
	rule                 text NOT NULL,
	guard_factor         double precision,
	min_tur              double precision,
	max_risk             double precision,
	result_as_found      text,
	result_as_left       text,
	received_at          timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (site_id, record)
);
CREATE INDEX cal_records_certificate ON cal_records (site_id, certificate);
CREATE INDEX cal_records_customer ON cal_records (customer);

CREATE TABLE cal_points (
	site_id           integer NOT NULL,
	record            bigint NOT NULL,
	n                 integer NOT NULL, -- 1, 2, ... in the record's order
	quantity          text NOT NULL,
	unit              text NOT NULL,
	reference         double precision,
	as_found          double precision, -- NULL: not taken
	as_left           double precision, -- NULL: not adjusted
	lower_limit       double precision,
	upper_limit       double precision,
	u_expanded        double precision, -- U
	k                 double precision,
	as_found_decision text,
	as_left_decision  text,
	PRIMARY KEY (site_id, record, n),
	FOREIGN KEY (site_id, record) REFERENCES cal_records ON DELETE CASCADE
);

CREATE TABLE cal_approvals (
	site_id     integer NOT NULL REFERENCES sites,
	approval    bigint NOT NULL, -- its place in the lab's approvals' chain
	seq         bigint NOT NULL,
	record      bigint NOT NULL,
	certificate text NOT NULL,
	record_hash text NOT NULL,
	approved    timestamptz NOT NULL,
	approver    text NOT NULL,
	role        text NOT NULL,
	prev_hash   text NOT NULL,
	hash        text NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (site_id, approval)
);
