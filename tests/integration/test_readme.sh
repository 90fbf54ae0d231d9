#!/bin/bash
# test_readme.sh - the example commands of README.md run as written, so
# that the README cannot rot.
#
#   test_readme.sh SOURCE_DIR BUILD_DIR
#
# README.md marks its examples:
#   <!-- readme-example:begin NAME -->
#       commands, indented four spaces (a trailing \ continues a line)
#   <!-- readme-example:end -->
# and each block runs, with bash -e (every command must succeed), in an
# empty directory, with BUILD_DIR/tools first in PATH, on a database that
# metrologd made:
#   lab-bench  from config/lab-bench.cfg, its bus bath-eth pointed at a
#              metrolog-sim (the other TCP address and the RS-485 line
#              stay absent: those instruments are offline), until
#              TB-01/temperature has good readings;
#   demo       from config/demo.cfg against the simulator, with the demo's
#              records (tools/demo-records.sh), as tools/demo.sh leaves
#              build/demo/demo.db.
# The one thing changed in a block is the path of its `export
# METROLOG_DB=` line (the test's database for the installed default or
# the demo's). Every file a command writes with -o must exist and not be
# empty.
#
# Exit 0: passed; 1: failed, with the failing block's output.
set -euo pipefail

SRC=$1
BUILD=$2
# In the sanitizer build: fontconfig's caches live until exit on purpose
# (as in test_certificate.c and test_records.c)
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$SRC/tests/integration/fontconfig.lsan"
SIM=$BUILD/firmware/port/host/metrolog-sim
GW=$BUILD/gateway/metrologd
ML=$BUILD/tools/metrolog
TMP=$(mktemp -d -t metrolog-readme.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

# The commands of block NAME of README.md on standard output.
block() {
	awk -v name="$1" '
		$0 == "<!-- readme-example:begin " name " -->" { on = 1; next }
		on && $0 == "<!-- readme-example:end -->" { on = 0; found = 1; next }
		on && substr($0, 1, 4) == "    " { print substr($0, 5); next }
		on && $0 != "" { bad = 1 }
		END { exit (found && !bad) ? 0 : 1 }' "$SRC/README.md"
}

# make_db NAME CONFIG BUS CHANNEL SIM_ARGS...: $TMP/NAME.db, made by
# metrologd from CONFIG with its database there and its TCP bus BUS on a
# simulator started with SIM_ARGS, once INSTRUMENT/CHANNEL has 5 good
# readings.
make_db() {
	local name=$1 cfg=$2 bus=$3 channel=$4 port gw
	shift 4
	"$SIM" --tcp 127.0.0.1:0 --port-file "$TMP/$name.port" "$@" \
		2>"$TMP/$name-sim.log" &
	pids+=($!)
	for _ in $(seq 200); do [ -s "$TMP/$name.port" ] && break; sleep 0.05; done
	[ -s "$TMP/$name.port" ] || fail "$name: the simulator did not start"
	port=$(head -n 1 "$TMP/$name.port")
	sed -e "s|^database = .*|database = \"$TMP/$name.db\";|" \
		-e "/name = \"$bus\";/,/}/ s|host = \"[^\"]*\";|host = \"127.0.0.1\";|" \
		-e "/name = \"$bus\";/,/}/ s|port = [0-9]*;|port = $port;|" \
		-e "s|logo = \"demo-logo.png\";|logo = \"$SRC/config/demo-logo.png\";|" \
		"$cfg" >"$TMP/$name.cfg"
	"$GW" --check-config "$TMP/$name.cfg" >/dev/null ||
		fail "$name: metrologd --check-config refused $TMP/$name.cfg"
	"$GW" "$TMP/$name.cfg" 2>"$TMP/$name-gw.log" &
	gw=$!
	for _ in $(seq 1200); do
		if [ -s "$TMP/$name.db" ] && [ "$("$ML" readings "$channel" --from -1h \
			-f csv -d "$TMP/$name.db" 2>/dev/null | grep -c ',good' || true)" -ge 5 ]; then
			break
		fi
		kill -0 "$gw" 2>/dev/null || { cat "$TMP/$name-gw.log"; fail "$name: metrologd stopped"; }
		sleep 0.1
	done
	kill -TERM "$gw"
	wait "$gw" || { cat "$TMP/$name-gw.log"; fail "$name: metrologd did not stop cleanly"; }
	[ "$("$ML" readings "$channel" --from -1h -f csv -d "$TMP/$name.db" |
		grep -c ',good')" -ge 5 ] || fail "$name: no good readings of $channel"
}

# run_block NAME DB: block NAME of README.md on DB, in its own directory.
run_block() {
	local name=$1 db=$2 dir=$TMP/run-$1
	block "$name" >"$TMP/$name.sh" ||
		fail "README.md: no readme-example block $name (or a line not indented)"
	grep -q '^export METROLOG_DB=' "$TMP/$name.sh" ||
		fail "README.md block $name: no export METROLOG_DB= line"
	sed -i "s|^export METROLOG_DB=[^ ]*|export METROLOG_DB=$db|" "$TMP/$name.sh"
	mkdir "$dir"
	if ! (cd "$dir" && PATH="$BUILD/tools:$PATH" bash -eux -o pipefail \
		"$TMP/$name.sh") >"$TMP/$name.out" 2>&1; then
		cat "$TMP/$name.out"
		fail "README.md block $name: a command failed (above)"
	fi
	# every -o FILE written, not empty
	for f in $(grep -o -- ' -o [^ ]*' "$TMP/$name.sh" | cut -c5-); do
		[ -s "$dir/$f" ] || fail "README.md block $name: $f not written"
	done
	echo "README.md block $name: $(grep -c '^metrolog ' "$TMP/$name.sh") commands passed"
}

# metrolog-sim: unit 1's channel 0 (TB-01/temperature at 30001, BATH-1/bath)
# reads 20 degC; 64 channels so that every input register the lab's
# instruments read exists
make_db lab-bench "$SRC/config/lab-bench.cfg" bath-eth TB-01/temperature \
	-n 1 -m 64 -c 1.0:nominal=20,noise=0.001
run_block lab-bench "$TMP/lab-bench.db"

make_db demo "$SRC/config/demo.cfg" sim PG-2/gauge-3 -n 3 -m 4 --accel 3600 \
	-c 2.2:nominal=250,noise=0.01,drift=0.2
METROLOG=$ML "$SRC/tools/demo-records.sh" "$TMP/demo.db" "$TMP/demo-out" \
	>"$TMP/demo-records.out" 2>&1 ||
	{ cat "$TMP/demo-records.out"; fail "tools/demo-records.sh failed"; }
run_block demo "$TMP/demo.db"
