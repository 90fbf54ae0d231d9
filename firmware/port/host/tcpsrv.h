/*
 * tcpsrv.h - Modbus TCP server of the simulator: listeners and connections.
 *
 * Non-blocking sockets on the event loop (loop.h), many concurrent clients,
 * each with a fixed input and output buffer: requests are framed with
 * mb_tcp_frame_len(), several pipelined requests are answered from one
 * read() with one write(), a partial write waits in the output buffer. A
 * malformed MBAP header closes that connection only. The farm (farm.h)
 * decides the answer; this module applies the transport faults: a delayed
 * reply (the connection is not parsed further until it is sent, other
 * connections are served meanwhile), a corrupted transaction id, and the
 * close after the Nth request.
 *
 * Threading: one thread, the event loop's.
 */
#ifndef METROLOG_SIM_TCPSRV_H
#define METROLOG_SIM_TCPSRV_H

#include "farm.h"
#include "loop.h"

#define TCPSRV_MAX_CONNS 4096

struct tcpsrv;

/* A server with room for max_conns connections (1..TCPSRV_MAX_CONNS); over
 * that, new connections are refused (accepted and closed, with a log line).
 * Returns NULL on failure (errno set). */
struct tcpsrv *tcpsrv_new(struct loop *l, struct farm *f, unsigned max_conns);

/* Close every connection and listener and free the server. NULL is fine. */
void tcpsrv_free(struct tcpsrv *s);

/*
 * Listen on addr (numeric or host name; NULL: 127.0.0.1) and port (0: a
 * free port) for requests routed as route (FARM_TCP_SHARED or an instrument
 * index, see farm.h). Returns the port bound, or -1 (logged).
 */
int tcpsrv_listen(struct tcpsrv *s, const char *addr, int port, int route);

#endif
