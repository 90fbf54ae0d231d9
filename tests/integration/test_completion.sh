#!/bin/bash
# test_completion.sh - the bash completion of metrolog
# (packaging/bash-completion/metrolog) against the programs of BUILD_DIR:
# subcommands, options, formats, and instrument ids from a database that a
# real metrologd filled with its configuration.
#
#   test_completion.sh SOURCE_DIR BUILD_DIR
set -eu

SRC=$1
BUILD=$2
export PATH=$BUILD/tools:$PATH
unset METROLOG_DB
TMP=$(mktemp -d "${TMPDIR:-/tmp}/metrolog-compl.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
FAILS=0

# shellcheck source=../../packaging/bash-completion/metrolog
source "$SRC/packaging/bash-completion/metrolog"

# complete WORDS..., the last one the word being completed; want: the
# replies sorted and joined by spaces
want()
{
	local expect=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	_metrolog || true # (errexit is off inside: compgen fails on no match)
	local got
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
	if [ "$got" != "$expect" ]; then
		echo "FAIL: [$*] completes to '$got', want '$expect'"
		FAILS=$((FAILS + 1))
	fi
}

want "read readings report" metrolog re
want "--min-tur" metrolog calibrate --min
want "--from" metrolog readings --fr
want "json jsonl" metrolog readings -f j
want "csv json jsonl pdf text" metrolog report --format ""
want "--help --version" metrolog --

# ids from a database: metrologd writes its configuration's instruments
# and standards when it starts (its bus answers nothing: port 9 on
# loopback, discard, closed)
cat >"$TMP/m.cfg" <<CFG
site = "t";
database = "$TMP/m.db";
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = 9; } );
instruments = (
  { id = "BATH-1"; bus = "b"; unit_id = 1; interval_ms = 1000;
    channels = ( { name = "t"; register = "30001"; type = "float32"; } ); },
  { id = "BAR-2"; bus = "b"; unit_id = 2; interval_ms = 1000;
    channels = ( { name = "p"; register = "30001"; type = "float32"; } ); }
);
standards = ( { id = "STD-1"; } );
CFG
"$BUILD/gateway/metrologd" -q "$TMP/m.cfg" 2>"$TMP/m.log" &
PID=$!
for ((i = 0; i < 300; i++)); do # up to 30 s
	n=$(metrolog instruments -d "$TMP/m.db" --format csv 2>/dev/null |
		tail -n +2 | wc -l) || n=0
	[ "$n" -ge 3 ] && break
	sleep 0.1
done
kill -TERM "$PID"
wait "$PID" || true
PID=
want "BAR-2 BATH-1" metrolog readings -d "$TMP/m.db" BA
want "BAR-2 BATH-1 STD-1" metrolog calibrate --database "$TMP/m.db" -i ""
want "STD-1" metrolog calibrate -d "$TMP/m.db" --standard S
export METROLOG_DB=$TMP/m.db
want "BATH-1" metrolog trend BAT
unset METROLOG_DB
want "" metrolog readings -d "$TMP/none.db" BA

# a subcommand's actions, an option's values, the users of the database
want "add disable enable list passwd" metrolog user ""
want "disable" metrolog user -d "$TMP/m.db" di
want "enterprise manager technician" metrolog user add x --role ""
printf 'a-password-1\n' | metrolog user add -d "$TMP/m.db" alice --role technician >/dev/null
printf 'a-password-2\n' | metrolog user add -d "$TMP/m.db" albert --role manager >/dev/null
want "albert alice" metrolog user -d "$TMP/m.db" passwd al
want "alice" metrolog user -d "$TMP/m.db" disable ali
want "" metrolog user -d "$TMP/m.db" add al
want "" metrolog calibrate ""

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS failures"
	exit 1
fi
echo "completion OK"
