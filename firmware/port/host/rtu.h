/*
 * rtu.h - Modbus RTU over a pseudo-terminal: a serial line for the tests.
 *
 * The simulator opens a pty master, puts the slave side in raw mode, keeps
 * a slave descriptor open itself (so the master never sees EIO or a hang-up
 * when a client closes the line) and links the slave's name (/dev/pts/N) at
 * a path the client opens as its serial port. Frames are delimited by the
 * core's mb_rtu_rx receiver: by their predicted length, or by the
 * 3.5-character silence for the baud rate, timed with the loop's timer.
 * Unit 0 is a broadcast (no reply); an unknown unit gets silence, as on an
 * RS-485 line. Faults: a corrupted reply has a wrong CRC; a delayed reply
 * is written when due, and frames that arrive meanwhile are dropped (the
 * line is half-duplex).
 *
 * Threading: one thread, the event loop's.
 */
#ifndef METROLOG_SIM_RTU_H
#define METROLOG_SIM_RTU_H

#include <stdint.h>

#include "farm.h"
#include "loop.h"

struct rtu;

/* Open a pty served on l, link its slave at link_path (replacing a
 * symbolic link there, refusing anything else). Returns NULL on failure
 * (logged). */
struct rtu *rtu_open(struct loop *l, struct farm *f, const char *link_path,
                     uint32_t baud);

/* The slave device name, e.g. "/dev/pts/3". */
const char *rtu_device(const struct rtu *r);

/* Remove the link (if it is still ours), close the pty and free. NULL is
 * fine. */
void rtu_close(struct rtu *r);

#endif
