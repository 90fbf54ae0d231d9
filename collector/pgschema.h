/*
 * pgschema.h - the archive's schema, embedded at build time (pgschema.c,
 * made by collector/CMakeLists.txt): step 0 is collector/schema.sql, the
 * whole schema of version 1; step k (k >= 1) is collector/schema-<k+1>.sql,
 * from version k to k + 1. Each step sets metrolog_schema's version.
 */
#ifndef METROLOG_PGSCHEMA_H
#define METROLOG_PGSCHEMA_H

extern const char *const pgschema_steps[];
extern const int pgschema_nsteps; /* the version the last step makes */

#endif
