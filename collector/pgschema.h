/*
 * pgschema.h - the archive's schema (collector/schema.sql), embedded at
 * build time as one string of SQL statements (pgschema.c).
 */
#ifndef METROLOG_PGSCHEMA_H
#define METROLOG_PGSCHEMA_H

extern const char pgschema_sql[];

#endif
