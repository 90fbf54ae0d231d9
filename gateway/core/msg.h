/*
 * msg.h - what metrologd publishes, as data: topics and every JSON payload
 * (docs/MQTT.md is the contract dashboards code against): readings,
 * events, statuses, the gateway's status, Home Assistant discovery and
 * the replies to records requests.
 *
 * Pure: no I/O, no global state, any thread. The outbox composer on the
 * ingest thread calls these builders to turn committed facts into outbox
 * rows; the publisher only sends what the outbox holds. Only "historical"
 * is added when a message is sent (it depends on when). The records
 * replies are built from core data (struct msg_instrument, calib.h's
 * struct calib_record) that publish_req.c fills from its queries.
 *
 * Strings are NUL-terminated UTF-8, written as they are ('"', '\\' and
 * bytes below 0x20 escaped, nothing else, as cJSON escapes them: the
 * readings payload, one per poll, is written by msg.c itself, byte for
 * byte as cJSON printed it, the others through cJSON). Every payload is
 * valid UTF-8 whatever it is given: a byte of a string that is not part
 * of a valid UTF-8 sequence is written as U+FFFD (text_utf8_repair()). A
 * number that is not finite is written as null, whatever the builder.
 */
#ifndef METROLOG_MSG_H
#define METROLOG_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSG_TOPIC_MAX 512

/* One channel of a readings message. */
struct msg_channel {
	const char *name;
	const char *unit; /* "" when none */
	double value;     /* ignored unless quality is 0 (good) */
	int quality;      /* enum quality */
	int digits;       /* significant digits the source carries (7 for a
	                     float32, so 101.32793 is not sent as
	                     101.32792663574219); 0: as cJSON prints a
	                     double (15 digits, 17 when 15 are off by more
	                     than a part in 2^52: docs/MQTT.md) */
};

/* "<prefix>/<site>/<leaf1>[/<leaf2>]" into buf. Returns 0, or -1 when it
 * does not fit. */
int msg_topic(char *buf, size_t size, const char *prefix, const char *site,
              const char *leaf1, const char *leaf2);

/* The payloads, without "historical" (added when sent), into buf as a
 * NUL-terminated JSON object. Each returns its length, or -1 when it does
 * not fit in size or memory runs out.
 *
 * msg_readings(): -1 also when instrument, a name or a unit is NULL. It
 * fits when its length + 7 <= size (the margin the cJSON path needed,
 * kept so that every size gives what it gave); it allocates nothing. */
int msg_readings(char *buf, size_t size, int64_t seq, int64_t ts_us,
                 const char *instrument, const struct msg_channel *ch,
                 size_t n);
/* kind: "online", "offline" or "failing" (sample_event_name()); reason:
 * NULL or e.g. "timeout". */
int msg_event(char *buf, size_t size, int64_t seq, int64_t ts_us,
              const char *instrument, const char *kind, const char *reason);
/* A tolerance state change (kind "tolerance") or a control chart's signal
 * (kind "drift", from and to NULL) of one channel; error NAN: none. */
struct msg_tol {
	const char *kind, *channel, *unit, *from, *to, *detail;
	double error, lower, upper;
};
int msg_tolerance(char *buf, size_t size, int64_t seq, int64_t ts_us,
                  const char *instrument, const struct msg_tol *t);

/* The tolerance state of one channel, for a status. */
struct msg_chstate {
	const char *channel, *state;
};

/* The calibration in force of an instrument or standard, for a status and
 * a calibration event. */
struct msg_calstate {
	const char *state;       /* "none", "ok", "due_soon", "overdue" */
	int64_t due_us;          /* 0: no due date */
	const char *certificate; /* "" never calibrated */
	bool reference_overdue;  /* in use as a reference while overdue */
};

/* The retained status of an instrument or standard: state "online",
 * "offline" or "failing" (NULL: not known yet, or a standard, which is not
 * polled)
 * with its reason; the tolerance state of each of its n channels that
 * have one (n = 0: no "tolerance" member); the calibration in force
 * (NULL: no "calibration" member). */
int msg_status(char *buf, size_t size, int64_t seq, int64_t ts_us,
               const char *instrument, const char *state, const char *reason,
               const struct msg_chstate *ch, size_t n,
               const struct msg_calstate *cal);

/* A change of the calibration due state (from, to: the calib_due_name()s;
 * equal when only the certificate in force changed), with the detail
 * sentence of the events row. */
int msg_calibration(char *buf, size_t size, int64_t seq, int64_t ts_us,
                    const char *instrument, const char *from, const char *to,
                    const struct msg_calstate *cal, const char *detail);

/* The gateway's retained status (docs/MQTT.md). */
struct msg_gwstatus {
	const char *state;  /* "online" or "offline" */
	const char *reason; /* NULL: none */
	int64_t rows;       /* the outbox's backlog at now_us */
	int64_t oldest_us;  /* the time of its oldest row, 0: none */
	int64_t now_us;
	const char *client_id;
	int64_t connected_us; /* when the connection it is sent on began */
	int64_t last_seq;     /* every seq up to it reached the broker before
	                         this status (0: none yet) */
};
int msg_gateway_status(char *buf, size_t size, const struct msg_gwstatus *s);

/* The gateway's Last Will, set on the connection begun at connected_us:
 * {"state":"offline","reason":"lost","connected":...}. The same
 * "connected" as the statuses of that connection, so that a subscriber
 * that receives them out of order (several archivers in a shared
 * subscription) can tell which is the latest: docs/MQTT.md. */
int msg_gateway_will(char *buf, size_t size, int64_t connected_us);

/* Home Assistant discovery: where the configs go and what they point at. */
struct msg_ha {
	const char *ha_prefix;      /* "homeassistant" */
	const char *prefix, *site;  /* metrolog's topics */
	const char *gateway_status; /* the gateway's status topic */
};
struct cfg_instrument;
struct cfg_channel;
/* The discovery config of channel ch of instrument in: its value
 * (tolerance false) or its tolerance state (true), its topic into topic
 * and its payload into buf. Returns the payload's length, or -1 when
 * either does not fit, or a name is too long to be written whole in its
 * id (199 bytes written as they are, 66 escaped as _XX; the
 * configuration allows 64): cut, it could name another channel. */
int msg_ha_config(const struct msg_ha *h, const struct cfg_instrument *in,
                  const struct cfg_channel *ch, bool tolerance, char *topic,
                  size_t tsize, char *buf, size_t size);

/* ---- calibration records published in full (docs/MQTT.md) ------------
 * On <prefix>/<site>/calibrations, through the outbox: every field of a
 * record that its hash covers, so that the hash can be recomputed from
 * the payload alone (calib_canonical): strings as they are ("" stays
 * ""), times as ISO 8601 with microseconds (null for 0), numbers exact
 * (the fewest digits that read back as the same double, text_shortest();
 * null for NAN), decisions by name (null for -1). On the heap, as a reply: a
 * record of 64 points takes some 30 KB. */
struct calib_record;
struct calib_approval;

/* The payload of record rec (appended to the chain: id, hashes set),
 * published as seq at ts_us (its issued time). Returns the text (free it
 * with msg_text_free()) and its length in *len, or NULL when memory runs
 * out. */
char *msg_cal_record(int64_t seq, int64_t ts_us, const struct calib_record *rec,
                     size_t *len);

/* The payload of approval a of the record of instrument and certificate,
 * published as seq at ts_us (its approved time). As msg_cal_record(). */
char *msg_cal_approval(int64_t seq, int64_t ts_us, const char *instrument,
                       const char *certificate, const struct calib_approval *a,
                       size_t *len);

/* ---- records on request (docs/MQTT.md, Records on request) ----------- */

/* An instrument of a reply, as the database lists it. */
struct msg_instrument {
	const char *name;
	const char *kind;                      /* "instrument", "standard" */
	const char *model, *serial, *location; /* "": null */
	int64_t due_us; /* its calibration in force's due date, 0: null */
	int due;        /* enum calib_due at the reply's generated time */
};

/* What an ok reply says before its instruments. */
struct msg_reply_head {
	const char *enterprise;
	int64_t generated_us;    /* UTC; 0: null */
	const char *correlation; /* the request's, NULL: null */
	const char *chain_head;  /* the audit chain's last hash */
	bool chain_intact;
};

/* An ok reply, built an instrument and a record at a time (a reply can
 * be large: it is on the heap, not in a caller's buffer). */
struct msg_reply;
struct calib_record;

/* A reply with head h and no instrument yet; NULL when memory runs out. */
struct msg_reply *msg_reply_new(const struct msg_reply_head *h);
/* NULL allowed. */
void msg_reply_free(struct msg_reply *r);
/* Append instrument in; the records appended next are its. Returns 0, or
 * -1 when memory runs out. */
int msg_reply_instrument(struct msg_reply *r, const struct msg_instrument *in);
/* Append rec (with its points) to the last instrument appended;
 * superseded_by: the id of the record correcting it, 0: none. Returns 0,
 * or -1 when there is no instrument yet or memory runs out. */
int msg_reply_record(struct msg_reply *r, const struct calib_record *rec,
                     int64_t superseded_by);
/* The reply as one line of JSON, NUL-terminated, on the heap (free it
 * with msg_text_free()), its length in *len; NULL when memory runs out. */
char *msg_reply_text(const struct msg_reply *r, size_t *len);
/* Frees what msg_reply_text() returned. NULL allowed. */
void msg_text_free(char *text);

/* ---- a certificate's record as JSON (docs/WEB.md, metrolog-web) ------- */

struct calib_approval;

struct msg_certificate {
	const struct calib_record *rec;
	int64_t superseded_by;   /* the record correcting it, 0 none */
	const char *replaces;    /* certificate number rec->supersedes, "" */
	const char *replaced_by; /* certificate number superseded_by, "" */
	const struct calib_approval *approval; /* id 0: none, a draft */
};

/* The machine-readable record of a certificate: "format":
 * "metrolog-certificate", "format_version": 1, the fields of a records
 * reply's record (msg_reply_record, docs/MQTT.md), every other field of
 * the record (its prev_hash too), the two certificate numbers, the
 * approval (an object, or null), and "qr": the text of the certificate's
 * QR code. One line of JSON on the heap (msg_text_free()), its length in
 * *len; NULL when memory runs out. */
char *msg_certificate(const struct msg_certificate *m, size_t *len);

/* The error reply {"status":"error","error":...,"correlation":...}
 * (correlation NULL: null) into buf. Returns its length, or -1 as the
 * payloads above. Every byte below 0x20 is escaped as 6, so 6 times the
 * two strings' lengths plus 64 is always enough. */
int msg_reply_error(char *buf, size_t size, const char *error,
                    const char *correlation);

/* The busy reply: an error reply (as msg_reply_error()'s, the same size
 * is enough) with "retry_after_s": retry_after_s, the seconds to wait
 * before asking again. */
int msg_reply_busy(char *buf, size_t size, const char *error,
                   const char *correlation, int retry_after_s);

/* ---- replays (docs/MQTT.md, Replay) ---------------------------------- */

/* payload (len bytes, a JSON object as composed, without "historical")
 * as a replayed message: with "historical":true,"replay":true before its
 * closing brace, into buf, NUL-terminated. Returns the length, or -1
 * when it does not fit or payload is not an object. */
int msg_replay_mark(char *buf, size_t size, const char *payload, size_t len);

/* Seqs from..to a replay sent, or could not send and why. */
struct msg_replay_range {
	int64_t from, to;
	const char *reason;     /* not sent: "retention", "not_kept" */
	int64_t ts_from, ts_to; /* not sent: UTC us, 0: not known */
};

/* The reply to a replay request. */
struct msg_replay_reply {
	int64_t from, to;        /* as asked */
	const char *correlation; /* the request's, NULL: null */
	const struct msg_replay_range *sent, *missing;
	size_t nsent, nmissing;
};

/* {"status":"ok","from":..,"to":..,"correlation":..,"sent":[[a,b],..],
 * "missing":[{"from":a,"to":b,"reason":..,"ts_from":..,"ts_to":..},..]}
 * on the heap (msg_text_free()), its length in *len; NULL when memory
 * runs out. */
char *msg_replay_reply(const struct msg_replay_reply *r, size_t *len);

#endif
