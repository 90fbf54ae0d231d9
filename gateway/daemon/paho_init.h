/*
 * paho_init.h - how metrolog starts Paho (libpaho-mqtt3as): paho_init()
 * before the first MQTTAsync_create*() (it does its work once a program:
 * Paho's global initialisation must not run again while a client lives).
 *
 * OpenSSL is left to initialise itself at its first use (OpenSSL 1.1 and
 * later do; Debian 12 has 3.0): Paho's own initialisation loads every
 * error string and algorithm and OpenSSL's configuration at start, which
 * a broker on plain TCP never uses: 1.3 MiB more of libcrypto resident in
 * metrologd (docs/BENCHMARKS.md, session 9).
 *
 * Paho's trace is kept to errors. Paho (1.3.11, and upstream through
 * 1.3.15) formats a trace line for every packet it sends or receives into
 * an in-memory ring, whether or not anyone reads it: a vsnprintf() under
 * one mutex that its send and receive threads share. Its line for an
 * outgoing QoS 1 PUBLISH reads the first 20 bytes of the payload after the
 * packet is written, when another of its threads may already have freed
 * it: valgrind reported that read after free once in mqtt_ha. At the
 * error level none of those lines is formatted. Someone tracing Paho on
 * purpose (MQTT_C_CLIENT_TRACE set, see Paho's documentation) keeps its
 * levels.
 */
#ifndef METROLOG_PAHO_INIT_H
#define METROLOG_PAHO_INIT_H

#include <pthread.h>
#include <stdlib.h>

#include <MQTTAsync.h>

static inline void paho_init_once(void)
{
	MQTTAsync_init_options o = MQTTAsync_init_options_initializer;
	const char *t = getenv("MQTT_C_CLIENT_TRACE");

	o.do_openssl_init = 0;
	MQTTAsync_global_init(&o);
	if (t == NULL || *t == '\0')
		MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
}

static inline void paho_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, paho_init_once);
}

#endif
