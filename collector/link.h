/*
 * link.h - the collector's MQTT side (Paho MQTTAsync, MQTT 3.1.1 or 5):
 * a persistent session with a fixed client id, shared subscriptions
 * $share/<group>/<prefix>/<sites>/+/{readings,events,status} and
 * $share/<group>/<prefix>/<sites>/calibrations at QoS 1,
 * reconnection by Paho with back-off (1 s doubling to 30 s). The only
 * file of the collector that includes MQTTAsync.h.
 *
 * Acknowledge after commit: Paho C (1.3.12, Debian 12) has no manual
 * acknowledgement. For an incoming QoS 1 PUBLISH it calls the
 * messageArrived callback on its receive thread and sends the PUBACK only
 * when the callback has returned (MQTTProtocol_handlePublishes: the
 * message is processed, then the PUBACK sent). So deliver() below is
 * called on Paho's thread and returns when the collector is done with
 * the message: committed (or refused for good), or, in a batch, copied
 * into the collector's memory (writer.h says why that is safe). Until it
 * returns, Paho's thread (and its mutex) is held: no other message is
 * read, and no other Paho call may be made from a thread deliver()
 * waits on.
 */
#ifndef METROLOG_LINK_H
#define METROLOG_LINK_H

#include <stddef.h>

#include "ccfg.h"

struct link;

/* Called on Paho's receive thread with each message (payload not
 * NUL-terminated). Returning acknowledges it: only when the collector is
 * done with it (committed, refused for good, or held in a batch); when it
 * cannot be (the collector stops), it must never return: the process
 * exits under it and the broker sends the message again (to this client
 * id, or the group). */
typedef void link_deliver_fn(void *arg, const char *topic, const char *payload,
                             size_t len);

/* A client for c (which must outlive it) handing messages to fn(arg, ...),
 * connecting at once; Paho connects again by itself after a failure or a
 * loss. Returns NULL with why in err. */
struct link *link_new(const struct ccfg *c, link_deliver_fn *fn, void *arg,
                      char *err, size_t errlen);

/* Ask site's gateway to replay seqs from..to (docs/MQTT.md, Replay): a
 * QoS 1 request on <prefix>/<site>/replay/request, the reply to come on
 * <prefix>/<site>/replay/replies/<client_id> (this collector's own
 * subscription, with c->repair), the correlation "<site>:<from>"; as the
 * Response Topic and Correlation Data properties with MQTT 5, in the
 * payload with 3.1.1. Any thread but Paho's (it may wait for Paho's
 * mutex). Returns 0, or -1 (not connected: logged). */
int link_ask_replay(struct link *l, const char *site, long long from,
                    long long to);

#endif
