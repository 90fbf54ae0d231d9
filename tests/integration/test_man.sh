#!/bin/sh
# test_man.sh - the man pages built in BUILD_DIR/man (packaging/man.cmake)
# say what the programs' --help says:
#
#   test_man.sh BUILD_DIR
#
#   metrolog(1)       every subcommand `metrolog --help` lists has its
#                     section, and every option `metrolog NAME --help` lists
#                     is in it
#   metrologd(8), metrolog-sim(1), metrolog-collector(8), metrolog-web(8)
#                     every option their --help lists
#   metrologd.cfg(5)  every group of docs/CONFIG.md's keys
# and each page formats without a warning (groff -ww), when groff is here.
# Exit 0: passed; 1: failed, each failure on one line.
set -eu

BUILD=$1
MAN=$BUILD/man
METROLOG=$BUILD/tools/metrolog
METROLOGD=$BUILD/gateway/metrologd
SIM=$BUILD/firmware/port/host/metrolog-sim
COLLECTOR=$BUILD/collector/metrolog-collector
WEB=$BUILD/web/metrolog-web
TMP=$(mktemp -d "${TMPDIR:-/tmp}/metrolog-man.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

# A page as plain words: roff's \- is -, font changes dropped.
plain() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$1"
}

# The long options an --help lists (at the start of its option lines).
options_of() {
	grep -E '^ +-' | grep -oE -- '--[A-Za-z0-9][A-Za-z0-9-]*' | sort -u
}

# every option of the help in file $3 is in page $1 ($2 names the help;
# not in a pipe: fail() must count in this shell)
check_options() {
	options_of <"$3" >"$TMP/opts"
	[ -s "$TMP/opts" ] || fail "$2: no option found in its --help"
	while read -r opt; do
		grep -qE -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|\$)" "$1" ||
			fail "$2 lists $opt, its man page does not"
	done <"$TMP/opts"
}

for page in metrolog.1 metrologd.8 metrolog-sim.1 metrologd.cfg.5 \
	metrolog-collector.8 metrolog-web.8; do
	if [ ! -s "$MAN/$page" ]; then
		fail "no man page $MAN/$page"
		continue
	fi
	if command -v groff >/dev/null; then
		groff -man -Tutf8 -ww -z "$MAN/$page" >"$TMP/groff" 2>&1 ||
			fail "$page: groff failed"
		if [ -s "$TMP/groff" ]; then
			cat "$TMP/groff"
			fail "$page: groff warns"
		fi
	fi
done
if [ "$FAILS" -ne 0 ]; then
	exit 1
fi

# ---- metrolog(1): the subcommands and their options -----------------------
plain "$MAN/metrolog.1" >"$TMP/metrolog.1"
"$METROLOG" --help | grep -E '^  [a-z][a-z-]* ' | awk '{ print $1 }' \
	>"$TMP/commands"
[ "$(wc -l <"$TMP/commands")" -ge 10 ] ||
	fail "metrolog --help lists only $(wc -l <"$TMP/commands") commands"
while read -r cmd; do
	# its section: from ".SS cmd" to the next .SS or .SH
	awk -v c="$cmd" '$0 == ".SS " c { on = 1; next }
		/^\.S[SH] / { on = 0 } on' "$TMP/metrolog.1" >"$TMP/section"
	if [ ! -s "$TMP/section" ]; then
		fail "metrolog(1) has no section for $cmd"
		continue
	fi
	"$METROLOG" "$cmd" --help >"$TMP/help"
	check_options "$TMP/section" "metrolog $cmd --help" "$TMP/help"
done <"$TMP/commands"
"$METROLOG" --help >"$TMP/help"
check_options "$TMP/metrolog.1" "metrolog --help" "$TMP/help"

# ---- metrologd(8), metrolog-sim(1), metrolog-web(8) ------------------------
plain "$MAN/metrologd.8" >"$TMP/metrologd.8"
"$METROLOGD" --help >"$TMP/help"
check_options "$TMP/metrologd.8" "metrologd --help" "$TMP/help"
plain "$MAN/metrolog-sim.1" >"$TMP/metrolog-sim.1"
"$SIM" --help >"$TMP/help"
check_options "$TMP/metrolog-sim.1" "metrolog-sim --help" "$TMP/help"
plain "$MAN/metrolog-collector.8" >"$TMP/metrolog-collector.8"
"$COLLECTOR" --help >"$TMP/help"
check_options "$TMP/metrolog-collector.8" "metrolog-collector --help" \
	"$TMP/help"

plain "$MAN/metrolog-web.8" >"$TMP/metrolog-web.8"
"$WEB" --help >"$TMP/help"
check_options "$TMP/metrolog-web.8" "metrolog-web --help" "$TMP/help"

# ---- metrologd.cfg(5) -------------------------------------------------------
plain "$MAN/metrologd.cfg.5" >"$TMP/cfg.5"
for group in storage mqtt buses instruments standards lab \
	customers channels tolerance; do
	grep -q "^\.SS .*$group" "$TMP/cfg.5" ||
		fail "metrologd.cfg(5) has no section for $group"
done
for key in site database batch_ms queue_full interval_ms unit_id register \
	calibration_interval_days password_file ca_file; do
	grep -q "^$key\$" "$TMP/cfg.5" ||
		fail "metrologd.cfg(5) does not describe $key"
done

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS failures"
	exit 1
fi
echo "man pages OK"
