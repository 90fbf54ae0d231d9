/*
 * test_province.c - the provincial queries of metrolog-collector
 * (docs/PROVINCE-QUERIES.md) against a real PostgreSQL 15 (pgtest.h)
 * holding the archive's schema (`metrolog-collector init`). Several labs'
 * rows are written with SQL as the collector writes them (archive.c: the
 * ids by metrolog_site/metrolog_instrument, events and records keyed by
 * site and seq or record id):
 *   - an enterprise named differently by two labs sees its instruments in
 *     both, with the calibration in force (a superseded record skipped),
 *     its approval, due state and certificates, and nothing of another
 *     enterprise (test_enterprise);
 *   - availability and out-of-tolerance time, exact for a constructed
 *     timeline (test_availability);
 *   - the pooled interval analysis by model across two labs gives, for the
 *     history worked out here by hand, what `metrolog interval` (the tool)
 *     gives on it (test_interval);
 *   - an enterprise by its customer id: one id spelt two ways in two labs
 *     is one enterprise, the same name under another id is not merged
 *     (test_enterprise_id);
 *   - the models published with the records fill instrument_models, so
 *     that the pooled history needs nothing set by hand; the province's
 *     own model wins (test_interval_gateway_models).
 */
#include "gwtest.h"
#include "pgtest.h"

#define COLLECTOR_BIN METROLOG_COLLECTOR_BIN

struct prov {
	struct pg pg;
	const char *dir;
	char cfg[H_PATH_MAX];
};

static void prov_start(struct prov *p)
{
	char text[1024], log[H_PATH_MAX];
	const char *argv[] = {COLLECTOR_BIN, "-c", p->cfg, "init", NULL};

	p->dir = h_tmpdir();
	pg_init(&p->pg, p->dir);
	h_path(p->cfg, p->dir, "collector.cfg");
	snprintf(text, sizeof(text),
	         "mqtt = { port = 1; client_id = \"q\"; };\n"
	         "postgresql = { conninfo = \"%s\"; };\n",
	         p->pg.conninfo);
	write_file(p->cfg, text);
	assert_int_equal(
	        h_run(argv, h_path(log, p->dir, "init.log"), true, 60000), 0);
}

/* Run sql (statements without rows); fails the test on an error. */
static void pg_run(const struct pg *p, const char *sql)
{
	PGconn *c = PQconnectdb(p->conninfo);
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* metrolog-collector -c cfg args...: its exit status, stdout and stderr
 * into out. */
static int query(const struct prov *p, const char *const args[], char *out,
                 size_t size)
{
	const char *argv[16] = {COLLECTOR_BIN, "-c", p->cfg};
	char log[H_PATH_MAX];
	int i, code;

	for (i = 0; args[i] != NULL && i < 12; i++)
		argv[i + 3] = args[i];
	argv[i + 3] = NULL;
	h_path(log, p->dir, "query.out");
	unlink(log);
	code = h_run(argv, log, true, 60000);
	assert_true(h_read_file(log, out, size) >= 0);
	return code;
}

static void must_say(const char *out, const char *text)
{
	if (strstr(out, text) == NULL)
		fail_msg("no \"%s\" in: %s", text, out);
}

static void must_not_say(const char *out, const char *text)
{
	if (strstr(out, text) != NULL)
		fail_msg("\"%s\" should not be in: %s", text, out);
}

/* A record as the collector writes one (archive.c, sql_record), with one
 * point: quantity e, unit degC, reference 0 (so that the errors are the
 * values exactly), limits +-0.1, U 0.02, k 2. supersedes 0: none. cid
 * and model: the customer id and the item's model it was published with
 * ("": none, as a gateway before schema 14). */
static void record_ext(const struct pg *p, const char *site, int id,
                       const char *inst, const char *customer, const char *cid,
                       const char *model, const char *cert,
                       const char *performed, const char *due, int supersedes,
                       const char *found, const char *left)
{
	char sql[4096], sup[16] = "NULL";

	if (supersedes > 0)
		snprintf(sup, sizeof(sup), "%d", supersedes);
	snprintf(
	        sql, sizeof(sql),
	        "INSERT INTO cal_records (site_id, record, seq, instrument_id, "
	        "certificate, rule_version, prev_hash, hash, supersedes, "
	        "issued, performed, interval_days, due, standard, "
	        "standard_certificate, standard_overdue, lab, lab_address, "
	        "lab_accreditation, customer, customer_address, "
	        "customer_contact, location, item_condition, method, "
	        "specification, conditions, deviations, technician, "
	        "authorised, remarks, standard_reason, amendment, rule, "
	        "result_as_found, result_as_left, customer_id, model) VALUES "
	        "(metrolog_site('%s'), "
	        "%d, %d, metrolog_instrument('%s', '%s'), '%s', 3, 'p%d', "
	        "'h-%s-%d', %s, '%s', '%s', 365, '%s', '', '', false, 'Lab "
	        "%s', '', '', '%s', '%s address', '', '', '', '', '', '', '', "
	        "'T', '', '', '', '', 'simple', 'pass', 'pass', '%s', '%s'); "
	        "INSERT INTO cal_points (site_id, record, n, quantity, unit, "
	        "reference, as_found, as_left, lower_limit, upper_limit, "
	        "u_expanded, k, as_found_decision, as_left_decision) VALUES "
	        "(metrolog_site('%s'), %d, 1, 'e', 'degC', 0, %s, %s, -0.1, "
	        "0.1, 0.02, 2, 'pass', 'pass')",
	        site, id, 100 + id, site, inst, cert, id, site, id, sup,
	        performed, performed, due, site, customer, customer, cid, model,
	        site, id, found, left);
	pg_run(p, sql);
}

static void record(const struct pg *p, const char *site, int id,
                   const char *inst, const char *customer, const char *cert,
                   const char *performed, const char *due, int supersedes,
                   const char *found, const char *left)
{
	record_ext(p, site, id, inst, customer, "", "", cert, performed, due,
	           supersedes, found, left);
}

/* ---- an enterprise across labs --------------------------------------- */

static void test_enterprise(void **state)
{
	struct prov p;
	static char out[1 << 16];
	const char *csv[] = {"enterprise", "ACME CO.,  LTD", "--format", "csv",
	                     NULL};

	(void)state;
	prov_start(&p);
	/* ACME at lab-1 (TB-01, two records) and at lab-2, spelt otherwise
	 * record 1 superseded by record 2, which corrects its date to an
	 * earlier one, approved); Beta at lab-1;
	 * "ACME Company Limited" at lab-3 is another name: not matched */
	record(&p.pg, "lab-1", 1, "TB-01", "ACME Co., Ltd.", "C-1",
	       "2025-01-10T00:00:00Z", "2026-01-10T00:00:00Z", 0, "0.01", "0");
	record(&p.pg, "lab-1", 2, "TB-01", "ACME Co., Ltd.", "C-2",
	       "2026-01-10T00:00:00Z", "2099-01-10T00:00:00Z", 0, "0.02", "0");
	record(&p.pg, "lab-1", 3, "TB-02", "Beta JSC", "C-3",
	       "2026-02-01T00:00:00Z", "2099-02-01T00:00:00Z", 0, "0", "0");
	record(&p.pg, "lab-2", 1, "X-9", "acme co ltd", "A-1",
	       "2026-03-01T00:00:00Z", "2026-06-01T00:00:00Z", 0, "0", "0");
	record(&p.pg, "lab-2", 2, "X-9", "acme co ltd", "A-1a",
	       "2026-02-28T00:00:00Z", "2026-06-01T00:00:00Z", 1, "0", "0");
	record(&p.pg, "lab-3", 1, "Y-1", "ACME Company Limited", "Y-C",
	       "2026-03-01T00:00:00Z", "2099-06-01T00:00:00Z", 0, "0", "0");
	pg_run(&p.pg, "INSERT INTO cal_approvals (site_id, approval, seq, "
	              "record, certificate, record_hash, approved, approver, "
	              "role, prev_hash, hash) VALUES (metrolog_site('lab-2'), "
	              "1, 200, 2, 'A-1a', 'h-lab-2-2', "
	              "'2026-03-02T08:00:00Z', 'Boss', 'Manager', 'x', 'y')");

	assert_int_equal(query(&p, csv, out, sizeof(out)), 0);
	/* the header and exactly two instruments, one in each lab */
	must_say(out, "site,instrument,customer,customer_address,certificate,"
	              "record,performed,issued,due,interval_days,due_state,"
	              "lab_due_state,result_as_found,result_as_left,approval,"
	              "approved,approver,role,certificates\r\n");
	must_say(out, "\r\nlab-1,TB-01,\"ACME Co., Ltd.\",\"ACME Co., Ltd. "
	              "address\",C-2,2,"
	              "2026-01-10T00:00:00.000000Z,2026-01-10T00:00:00.000000Z,"
	              "2099-01-10T00:00:00.000000Z,365,ok,,pass,pass,"
	              "not approved,,,,C-1 C-2\r\n");
	must_say(out, "\r\nlab-2,X-9,acme co ltd,acme co ltd address,A-1a,2,"
	              "2026-02-28T00:00:00.000000Z,2026-02-28T00:00:00.000000Z,"
	              "2026-06-01T00:00:00.000000Z,365,overdue,,pass,pass,"
	              "approved,2026-03-02T08:00:00.000000Z,Boss,Manager,"
	              "A-1 A-1a\r\n");
	must_not_say(out, "TB-02");
	must_not_say(out, "Y-1");
	int lines = 0;
	for (const char *s = out; (s = strstr(s, "\r\n")) != NULL; s += 2)
		lines++;
	assert_int_equal(lines, 3);

	/* the view answers the same; the customers as each lab names them */
	assert_int_equal(pg_int(&p.pg, "SELECT count(*) FROM "
	                               "enterprise_instruments WHERE "
	                               "enterprise = metrolog_enterprise_key("
	                               "'Acme Co Ltd')"),
	                 2);
	assert_int_equal(pg_int(&p.pg, "SELECT count(DISTINCT site) FROM "
	                               "customers WHERE enterprise = 'acme co "
	                               "ltd' AND customer_id IS NULL"),
	                 2);
	/* text and JSON; a name no lab knows: 3 */
	assert_int_equal(
	        query(&p, (const char *const[]){"enterprise", "Beta JSC", NULL},
	              out, sizeof(out)),
	        0);
	must_say(out, "lab-1 TB-02 (customer Beta JSC, Beta JSC address)");
	must_say(out, "certificate C-3 (record 3)");
	must_not_say(out, "TB-01");
	assert_int_equal(query(&p,
	                       (const char *const[]){"enterprise", "ACME",
	                                             "--format", "json", NULL},
	                       out, sizeof(out)),
	                 0);
	must_say(out, "[]");
	assert_int_equal(
	        query(&p, (const char *const[]){"enterprise", "Nobody", NULL},
	              out, sizeof(out)),
	        3);
	pg_stop(&p.pg);
}

/* Data lines of CSV out (the header left out). */
static int csv_rows(const char *out)
{
	int lines = 0;

	for (const char *s = out; (s = strstr(s, "\r\n")) != NULL; s += 2)
		lines++;
	return lines - 1;
}

/* An enterprise with a customer id: one id spelt two ways in two labs,
 * under two legal names, is one enterprise; the same legal name under
 * another id is another, and so is that name in records without an id. */
static void test_enterprise_id(void **state)
{
	struct prov p;
	static char out[1 << 16];

	(void)state;
	prov_start(&p);
	record_ext(&p.pg, "lab-1", 1, "TB-01", "ACME Co., Ltd.",
	           "0101234567-001", "", "C-1", "2026-01-10T00:00:00Z",
	           "2099-01-10T00:00:00Z", 0, "0", "0");
	record_ext(&p.pg, "lab-2", 1, "X-9", "ACME Corporation",
	           "0101 234 567 001", "", "A-1", "2026-02-10T00:00:00Z",
	           "2099-02-10T00:00:00Z", 0, "0", "0");
	record_ext(&p.pg, "lab-3", 1, "Y-1", "ACME Co., Ltd.", "0309999999", "",
	           "Y-C", "2026-03-01T00:00:00Z", "2099-06-01T00:00:00Z", 0,
	           "0", "0");
	record(&p.pg, "lab-3", 2, "Z-2", "ACME CO LTD", "Z-C",
	       "2026-03-02T00:00:00Z", "2099-06-01T00:00:00Z", 0, "0", "0");

	/* by the id, spelt a third way: both labs, nothing else */
	assert_int_equal(query(&p,
	                       (const char *const[]){"enterprise", "--id",
	                                             "0101234567001",
	                                             "--format", "csv", NULL},
	                       out, sizeof(out)),
	                 0);
	must_say(out, "\r\nlab-1,TB-01,\"ACME Co., Ltd.\",");
	must_say(out, "\r\nlab-2,X-9,ACME Corporation,");
	assert_int_equal(csv_rows(out), 2);
	/* the other id: its own instrument only */
	assert_int_equal(
	        query(&p,
	              (const char *const[]){"enterprise", "--id", "0309999999",
	                                    "--format", "csv", NULL},
	              out, sizeof(out)),
	        0);
	must_say(out, "\r\nlab-3,Y-1,");
	assert_int_equal(csv_rows(out), 1);
	/* by the name: the records without an id; text names the others */
	assert_int_equal(
	        query(&p,
	              (const char *const[]){"enterprise", "ACME Co., Ltd.",
	                                    "--format", "csv", NULL},
	              out, sizeof(out)),
	        0);
	must_say(out, "\r\nlab-3,Z-2,");
	assert_int_equal(csv_rows(out), 1);
	assert_int_equal(query(&p,
	                       (const char *const[]){"enterprise",
	                                             "ACME Co., Ltd.", NULL},
	                       out, sizeof(out)),
	                 0);
	must_say(out, "lab-3 Z-2 (customer ACME CO LTD");
	must_say(out, "not included, another customer id: lab-1: \"ACME Co., "
	              "Ltd.\", id 0101234567-001");
	must_say(out, "not included, another customer id: lab-3: \"ACME Co., "
	              "Ltd.\", id 0309999999");
	must_not_say(out, "lab-1 TB-01");
	assert_int_equal(query(&p,
	                       (const char *const[]){"enterprise", "--id",
	                                             "0101234567-001", NULL},
	                       out, sizeof(out)),
	                 0);
	must_say(out, "lab-2: \"ACME Corporation\", id 0101 234 567 001");
	must_say(out, "lab-1 TB-01 (customer ACME Co., Ltd.");
	must_say(out, "lab-2 X-9 (customer ACME Corporation");
	/* the views: one enterprise in two sites */
	assert_int_equal(pg_int(&p.pg,
	                        "SELECT count(DISTINCT site) FROM "
	                        "customers WHERE enterprise = "
	                        "metrolog_id_enterprise('0101234567 001')"),
	                 2);
	assert_int_equal(pg_int(&p.pg, "SELECT count(DISTINCT enterprise) FROM "
	                               "enterprise_instruments"),
	                 3);
	/* an id and a name together, or an unknown id */
	assert_int_equal(query(&p,
	                       (const char *const[]){"enterprise", "ACME",
	                                             "--id", "1", NULL},
	                       out, sizeof(out)),
	                 2);
	assert_int_equal(
	        query(&p,
	              (const char *const[]){"enterprise", "--id", "42", NULL},
	              out, sizeof(out)),
	        3);
	pg_stop(&p.pg);
}

/* ---- availability and out-of-tolerance time ------------------------- */

/* An event of site's inst as the collector writes it. */
static void event(const struct pg *p, const char *site, int seq,
                  const char *inst, const char *ts, const char *ev,
                  const char *channel, const char *to)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO events (site_id, seq, ts, instrument_id, event, "
	         "channel, to_state, payload) VALUES (metrolog_site('%s'), %d, "
	         "'%s', metrolog_instrument('%s', '%s'), '%s', %s%s%s, %s%s%s, "
	         "'{}')",
	         site, seq, ts, site, inst, ev, channel ? "'" : "",
	         channel ? channel : "NULL", channel ? "'" : "", to ? "'" : "",
	         to ? to : "NULL", to ? "'" : "");
	pg_run(p, sql);
}

static void test_availability(void **state)
{
	struct prov p;
	static char out[1 << 16];
	const char *csv[] = {"availability",
	                     "--from",
	                     "2026-11-01T04:00:00Z",
	                     "--to",
	                     "2026-11-01T12:00:00Z",
	                     "--format",
	                     "csv",
	                     NULL};

	(void)state;
	prov_start(&p);
	/* the period is 04:00-12:00 (28800 s). TB-01 at lab-1: online from
	 * 00:00 (before the period), offline 06:00-09:00, online again; an
	 * event after the period changes nothing. Its c0: warning 02:00,
	 * out of tolerance 05:00-05:30, warning 05:30-07:00, in tolerance
	 * after. P-7 at lab-2: first heard at 10:00 (unknown before),
	 * failing 11:00. Seqs out of time order, as a replay writes them. */
	event(&p.pg, "lab-1", 9, "TB-01", "2026-11-01T00:00:00Z", "online",
	      NULL, NULL);
	event(&p.pg, "lab-1", 3, "TB-01", "2026-11-01T06:00:00Z", "offline",
	      NULL, NULL);
	event(&p.pg, "lab-1", 4, "TB-01", "2026-11-01T09:00:00Z", "online",
	      NULL, NULL);
	event(&p.pg, "lab-1", 5, "TB-01", "2026-11-01T13:00:00Z", "offline",
	      NULL, NULL);
	event(&p.pg, "lab-1", 6, "TB-01", "2026-11-01T02:00:00Z", "tolerance",
	      "c0", "warning");
	event(&p.pg, "lab-1", 7, "TB-01", "2026-11-01T05:00:00Z", "tolerance",
	      "c0", "out_of_tolerance");
	event(&p.pg, "lab-1", 8, "TB-01", "2026-11-01T05:30:00Z", "tolerance",
	      "c0", "warning");
	event(&p.pg, "lab-1", 10, "TB-01", "2026-11-01T07:00:00Z", "tolerance",
	      "c0", "in_tolerance");
	event(&p.pg, "lab-1", 11, "TB-01", "2026-11-01T08:00:00Z", "drift",
	      "c0", NULL);
	event(&p.pg, "lab-2", 1, "P-7", "2026-11-01T10:00:00Z", "online", NULL,
	      NULL);
	event(&p.pg, "lab-2", 2, "P-7", "2026-11-01T11:00:00Z", "failing", NULL,
	      NULL);

	assert_int_equal(query(&p, csv, out, sizeof(out)), 0);
	/* TB-01: online 2 h + 3 h = 18000 s of 28800 (0.625), offline 3 h;
	 * c0: out 1800 s (0.0625), warning 1 h + 1.5 h = 9000 s (0.3125),
	 * in tolerance 5 h */
	must_say(out, "\r\nlab-1,TB-01,,28800.000000,18000.000000,10800.000000,"
	              "0,0.000000,0.625,,,,,,,,\r\n");
	must_say(out, "\r\nlab-1,TB-01,c0,,,,,,,28800.000000,18000.000000,"
	              "9000.000000,1800.000000,0,0.000000,0.3125,0.0625\r\n");
	/* P-7: unknown 6 h, online 1 h, failing 1 h */
	must_say(out, "\r\nlab-2,P-7,,28800.000000,3600.000000,0,3600.000000,"
	              "21600.000000,0.125,,,,,,,,\r\n");
	/* the sites: lab-1 as TB-01; lab-2 without tolerance channels */
	must_say(out, "\r\nlab-1,,,28800.000000,18000.000000,10800.000000,0,"
	              "0.000000,0.625,28800.000000,18000.000000,9000.000000,"
	              "1800.000000,0,0.000000,0.3125,0.0625\r\n");
	must_say(out, "\r\nlab-2,,,28800.000000,3600.000000,0,3600.000000,"
	              "21600.000000,0.125,,,,,,,,\r\n");
	/* the SQL function alone: exact fractions */
	assert_int_equal(pg_int(&p.pg, "SELECT count(*) FROM "
	                               "metrolog_tolerance_time('2026-11-01T04:"
	                               "00:00Z', '2026-11-01T12:00:00Z') WHERE "
	                               "out_of_tolerance_fraction = 0.0625 AND "
	                               "warning_fraction = 0.3125"),
	                 1);
	/* text; an empty period is refused */
	assert_int_equal(query(&p, csv, out, sizeof(out)), 0);
	assert_int_equal(
	        query(&p,
	              (const char *const[]){"availability", "--from",
	                                    "2026-11-01T04:00:00Z", "--to",
	                                    "2026-11-01T12:00:00Z", NULL},
	              out, sizeof(out)),
	        0);
	must_say(out, "  TB-01\n      online 62.5 % (18000 s), offline 37.5 % "
	              "(10800 s)");
	must_say(out, "out of tolerance 6.25 % (1800 s), warning 31.25 % "
	              "(9000 s)");
	assert_int_equal(
	        query(&p,
	              (const char *const[]){"availability", "--from",
	                                    "2026-11-02T00:00:00Z", "--to",
	                                    "2026-11-01T00:00:00Z", NULL},
	              out, sizeof(out)),
	        1);
	must_say(out, "is not after its start");
	pg_stop(&p.pg);
}

/* ---- the pooled interval analysis ------------------------------------ */

/* What the pooling must give, worked out by hand: TB-01 (lab-1) and X-9
 * (lab-2) intervals, by their end dates, laid end to end: TB-01
 * 2024-01-01 -> 2025-01-01 (366 days, 0 -> 0.05), X-9 2024-06-01 ->
 * 2025-06-01 (365, 0 -> 0.04), TB-01 2025-01-01 -> 2026-01-01 (365, 0.01
 * -> 0.12, out of tolerance), X-9 2025-06-01 -> 2026-03-01 (273, 0.02 ->
 * 0.09). Each row: the end's as-found, the next interval's start as-left. */
static const char pooled_csv[] =
        "date,as_found,as_left,lower,upper,uncertainty,k\n"
        "2024-01-01,0.01,0,-0.1,0.1,0.02,2\n"
        "2025-01-01,0.05,0,-0.1,0.1,0.02,2\n"
        "2026-01-01,0.04,0.01,-0.1,0.1,0.02,2\n"
        "2027-01-01,0.12,0.02,-0.1,0.1,0.02,2\n"
        "2027-10-01,0.09,0,-0.1,0.1,0.02,2\n";

/* The advice of a report: from "as found" to "suggestions are advice". */
static const char *advice(char *out)
{
	char *a = strstr(out, "as found ");
	char *end = a ? strstr(a, "suggestions are advice") : NULL;

	assert_non_null(end);
	end[0] = '\0';
	return a;
}

static void test_interval(void **state)
{
	struct prov p;
	static char out[1 << 16], tool_out[1 << 16];
	char path[H_PATH_MAX];
	const char *pooled[] = {"interval", "--model", "PT-100 bath", "--csv",
	                        NULL};

	(void)state;
	prov_start(&p);
	record(&p.pg, "lab-1", 1, "TB-01", "A", "C-1", "2024-01-01T08:00:00Z",
	       "2025-01-01T08:00:00Z", 0, "0.01", "0");
	record(&p.pg, "lab-1", 2, "TB-01", "A", "C-2", "2025-01-01T08:00:00Z",
	       "2026-01-01T08:00:00Z", 0, "0.05", "0.01");
	/* a record superseded (its as-found a typo): left out */
	record(&p.pg, "lab-1", 3, "TB-01", "A", "C-3", "2026-01-01T08:00:00Z",
	       "2027-01-01T08:00:00Z", 0, "5", "0");
	record(&p.pg, "lab-1", 4, "TB-01", "A", "C-3a", "2026-01-01T08:00:00Z",
	       "2027-01-01T08:00:00Z", 3, "0.12", "0");
	record(&p.pg, "lab-2", 1, "X-9", "B", "X-1", "2024-06-01T00:00:00Z",
	       "2025-06-01T00:00:00Z", 0, "-0.02", "0");
	record(&p.pg, "lab-2", 2, "X-9", "B", "X-2", "2025-06-01T00:00:00Z",
	       "2026-06-01T00:00:00Z", 0, "0.04", "0.02");
	record(&p.pg, "lab-2", 3, "X-9", "B", "X-3", "2026-03-01T00:00:00Z",
	       "2027-03-01T00:00:00Z", 0, "0.09", "0");
	/* another model's instrument, another lab's: not pooled */
	record(&p.pg, "lab-1", 5, "TB-02", "A", "D-1", "2024-03-01T00:00:00Z",
	       "2025-03-01T00:00:00Z", 0, "0.5", "0");
	record(&p.pg, "lab-1", 6, "TB-02", "A", "D-2", "2025-03-01T00:00:00Z",
	       "2026-03-01T00:00:00Z", 0, "0.7", "0");
	pg_run(&p.pg, "SELECT metrolog_set_model('lab-1', 'TB-01', "
	              "'PT-100 bath'), metrolog_set_model('lab-2', 'X-9', "
	              "'PT-100 bath', 'register'), metrolog_set_model('lab-1', "
	              "'TB-02', 'Other')");

	/* the pooled history is the one worked out above */
	assert_int_equal(query(&p, pooled, out, sizeof(out)), 0);
	must_say(out, "# model PT-100 bath, point e at 0 degC\n");
	assert_string_equal(strchr(out, '\n') + 1, pooled_csv);

	/* the advice is the tool's on that history */
	h_path(path, p.dir, "pooled.csv");
	write_file(path, pooled_csv);
	assert_int_equal(gw_tool(p.dir,
	                         (const char *const[]){"interval", path,
	                                               "--unit", "degC", NULL},
	                         tool_out, sizeof(tool_out)),
	                 0);
	assert_int_equal(query(&p,
	                       (const char *const[]){"interval", "--model",
	                                             "PT-100 bath", NULL},
	                       out, sizeof(out)),
	                 0);
	must_say(out, "point e at 0 degC: 6 records of 2 instrument(s) in 2 "
	              "lab(s), 4 intervals pooled\n");
	must_say(out, "history          5 calibrations, 2024-01-01 to "
	              "2027-10-01 (model PT-100 bath pooled)");
	must_say(tool_out, "interval test (RP-1 A3)");
	assert_string_equal(advice(out), advice(tool_out));
	/* a model nobody has: 3 */
	assert_int_equal(query(&p,
	                       (const char *const[]){"interval", "--model",
	                                             "None", NULL},
	                       out, sizeof(out)),
	                 3);
	pg_stop(&p.pg);
}

/* The models the gateways publish with their records fill
 * instrument_models (source gateway): the pooled analysis finds them with
 * nothing set by hand; a later record's model is kept over an earlier one
 * archived after it; the province's own row wins. */
static void test_interval_gateway_models(void **state)
{
	struct prov p;
	static char out[1 << 16];
	const char *pooled[] = {"interval", "--model", "PT-100 bath", "--csv",
	                        NULL};

	(void)state;
	prov_start(&p);
	record_ext(&p.pg, "lab-1", 1, "TB-01", "A", "", "PT-100 bath", "C-1",
	           "2024-01-01T08:00:00Z", "2025-01-01T08:00:00Z", 0, "0.01",
	           "0");
	record_ext(&p.pg, "lab-1", 2, "TB-01", "A", "", "PT-100 bath", "C-2",
	           "2025-01-01T08:00:00Z", "2026-01-01T08:00:00Z", 0, "0.05",
	           "0.01");
	record_ext(&p.pg, "lab-1", 3, "TB-01", "A", "", "PT-100 bath", "C-3",
	           "2026-01-01T08:00:00Z", "2027-01-01T08:00:00Z", 0, "5", "0");
	record_ext(&p.pg, "lab-1", 4, "TB-01", "A", "", "PT-100 bath", "C-3a",
	           "2026-01-01T08:00:00Z", "2027-01-01T08:00:00Z", 3, "0.12",
	           "0");
	/* lab-2's records archived out of order: record 3 (the model as now)
	 * before 1 and 2 (as it was then) */
	record_ext(&p.pg, "lab-2", 3, "X-9", "B", "", "PT-100 bath", "X-3",
	           "2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z", 0, "0.09",
	           "0");
	record_ext(&p.pg, "lab-2", 1, "X-9", "B", "", "PT-100", "X-1",
	           "2024-06-01T00:00:00Z", "2025-06-01T00:00:00Z", 0, "-0.02",
	           "0");
	record_ext(&p.pg, "lab-2", 2, "X-9", "B", "", "PT-100", "X-2",
	           "2025-06-01T00:00:00Z", "2026-06-01T00:00:00Z", 0, "0.04",
	           "0.02");
	/* the province says TB-02 is another model: its row wins */
	record_ext(&p.pg, "lab-1", 5, "TB-02", "A", "", "PT-100 bath", "D-1",
	           "2024-03-01T00:00:00Z", "2025-03-01T00:00:00Z", 0, "0.5",
	           "0");
	pg_run(&p.pg, "SELECT metrolog_set_model('lab-1', 'TB-02', 'Other', "
	              "'register')");
	record_ext(&p.pg, "lab-1", 6, "TB-02", "A", "", "PT-100 bath", "D-2",
	           "2025-03-01T00:00:00Z", "2026-03-01T00:00:00Z", 0, "0.7",
	           "0");

	assert_int_equal(pg_int(&p.pg, "SELECT count(*) FROM instrument_models "
	                               "WHERE model = 'PT-100 bath' AND "
	                               "source = 'gateway'"),
	                 2);
	assert_int_equal(pg_int(&p.pg, "SELECT count(*) FROM instrument_models "
	                               "WHERE model = 'Other' AND "
	                               "source = 'register'"),
	                 1);
	/* the same pooled history as test_interval's, set by nobody */
	assert_int_equal(query(&p, pooled, out, sizeof(out)), 0);
	must_say(out, "# model PT-100 bath, point e at 0 degC\n");
	assert_string_equal(strchr(out, '\n') + 1, pooled_csv);
	pg_stop(&p.pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_enterprise, h_teardown),
	        cmocka_unit_test_teardown(test_availability, h_teardown),
	        cmocka_unit_test_teardown(test_interval, h_teardown),
	        cmocka_unit_test_teardown(test_enterprise_id, h_teardown),
	        cmocka_unit_test_teardown(test_interval_gateway_models,
	                                  h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
