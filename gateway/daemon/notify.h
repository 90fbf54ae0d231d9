/*
 * notify.h - telling systemd how metrologd is (sd_notify(3)'s protocol,
 * spoken here without libsystemd): READY=1 once the database is open and
 * the pollers run, RELOADING=1 / READY=1 around a reload, STOPPING=1 on a
 * stop, and WATCHDOG=1 from a thread of its own, sent only while the
 * ingest loop turns (a unit's WatchdogSec=).
 *
 * The protocol: each state is one datagram of "KEY=VALUE" lines sent to
 * the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). Without $NOTIFY_SOCKET (not started by systemd, or
 * Type=simple) nothing is sent and nothing fails. The watchdog period is
 * $WATCHDOG_USEC, for this process only when $WATCHDOG_PID is unset or
 * names it.
 *
 * Threading: notify_send() and notify_watchdog_usec() read the
 * environment, so they belong to the thread that could change it
 * (metrologd's main thread). A struct notify_watchdog is started and
 * stopped by one thread; its own thread reads only the beat counter it
 * was given and the address read at its start.
 */
#ifndef METROLOG_NOTIFY_H
#define METROLOG_NOTIFY_H

#include <stdatomic.h>
#include <stdint.h>

/* Send state (e.g. "READY=1\nSTATUS=polling ...") to $NOTIFY_SOCKET.
 * Returns 0 when sent or when $NOTIFY_SOCKET is unset; -1 with errno
 * when it could not be sent (the caller logs). */
int notify_send(const char *state);

/* The watchdog period systemd asks of this process in microseconds
 * ($WATCHDOG_USEC, when $WATCHDOG_PID is unset or is getpid()), 0 when
 * there is no watchdog or $NOTIFY_SOCKET is unset. */
int64_t notify_watchdog_usec(void);

struct notify_watchdog;

/*
 * Start a thread that every period_us / 2 sends WATCHDOG=1 if *beat
 * changed since it last looked: the owner of *beat (the ingest loop)
 * increments it each turn, so a loop that hangs stops the petting and
 * systemd restarts the service after period_us. The first pet is sent
 * at once, to $NOTIFY_SOCKET as it is now. *beat must outlive the
 * watchdog. NULL with the reason logged.
 */
struct notify_watchdog *notify_watchdog_start(int64_t period_us,
                                              const atomic_uint_fast64_t *beat);

/* Stop and join the thread; NULL allowed. */
void notify_watchdog_stop(struct notify_watchdog *w);

#endif
