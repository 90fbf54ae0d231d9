/*
 * province.h - what the province asks its archive (docs/PROVINCE-QUERIES.md),
 * the subcommands of metrolog-collector on the views and functions of
 * schema-4.sql and schema-5.sql:
 *
 *   enterprise NAME | --id ID
 *                        an enterprise's instruments in every lab, with the
 *                        calibration in force, its approval, due date and
 *                        due state, and every certificate: the records of
 *                        customer id ID (normalised: metrolog_id_enterprise),
 *                        or those without a customer id of legal name NAME
 *                        (normalised: metrolog_enterprise_key)
 *   availability --from T --to T
 *                        per site, instrument and tolerance channel: the
 *                        time online, offline, failing, out of tolerance,
 *                        in warning, unknown within [T, T)
 *   interval --model M   the tool's interval advice (tools/calc.c,
 *                        calc_interval_report: RP-1 A3, variables data,
 *                        staircase) on the pooled as-found history of
 *                        every instrument of model M across labs
 *
 * Output as text (for people), CSV or JSON (--format). Single-threaded.
 */
#ifndef METROLOG_PROVINCE_H
#define METROLOG_PROVINCE_H

#include <stdbool.h>

/* Whether word is one of the subcommands above. */
bool province_is_command(const char *word);

/*
 * Run the subcommand argv[at] with the options after it (and -c/--config
 * FILE, which may also come after it; config is the one given before).
 * Returns the exit status: 0 done, 1 error (configuration, database), 2
 * bad usage, 3 nothing found (no instrument of the enterprise, no history
 * of the model).
 */
int province_main(const char *config, int at, int argc, char **argv);

#endif
