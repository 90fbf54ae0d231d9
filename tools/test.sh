#!/usr/bin/env bash
# Set up and run every test of metrolog. This is what CI runs (.ci/run).
#
#   1. install missing packages (tools/setup.sh test); refuse C sources
#      that differ from .clang-format
#   2. fuzz every parser of outside bytes for a bounded time (clang,
#      libFuzzer; tests/fuzz/CMakeLists.txt lists the targets): the Modbus
#      frames, the configuration file, the calibration fields file and
#      points CSV, the interval history CSV, records requests over MQTT,
#      the UTC times people type, the archive's blocks; and the builders
#      of every MQTT payload
#   3. plain build: every ctest test but those labelled valgrind, which
#      then run on the same build with every spawned program under
#      valgrind (leaks and memory errors fail): the same assertions, checked
#      harder, so they are not run a third time; but mqtt_v5, whose
#      assertions and memory are checked in step 4 (its code but the MQTT 5
#      properties is mqtt's, which runs under valgrind)
#   4. AddressSanitizer + UndefinedBehaviorSanitizer build: every ctest test
#      but those that check files rather than memory (the package, the man
#      pages, bash completion) and the browser test (Chromium driving
#      metrolog-web, whose requests test_web makes under ASan),
#      collector_replay_v5 (its code under ASan is collector_replay's and
#      collector_v5's: the replay's MQTT 5 response topic is the one
#      difference, checked in the plain step) and collector_multi (the
#      collector's and metrologd's code under ASan is that of collector,
#      collector_v5 and collector_replay: several labs and a broker
#      restarted are checked in the plain step), which keeps the whole
#      command within CI's 20 minutes on 2 cores
#
# Environment: FUZZ_SECONDS (default 60: the whole fuzz step, split evenly
# among the targets), JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh test
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-60}

step() { printf '\n==== %s\n' "$*"; }

build() { # build DIR [cmake args...]
	local dir=$1
	shift
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
}

step "format: every C file as .clang-format says"
unformatted=$(find firmware gateway tools tests web -name '*.[ch]' -print0 |
	xargs -0 -n 50 clang-format --dry-run 2>&1 | grep -oE '^[^:]+\.[ch]' | sort -u || true)
if [ -n "$unformatted" ]; then
	printf '%s\n' $unformatted
	echo "format: these files differ from .clang-format; run: clang-format -i FILE"
	exit 1
fi

fuzz_targets="frame config calfile history request utc msg archive"
fuzz_count=$(echo $fuzz_targets | wc -w)
fuzz_each=$((fuzz_seconds / fuzz_count))
[ "$fuzz_each" -ge 1 ] || fuzz_each=1
step "fuzz: ${fuzz_each} s each: ${fuzz_targets}"
CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMETROLOG_FUZZ=ON -DMETROLOG_FIRMWARE=OFF >/dev/null
cmake --build build/fuzz -j "$jobs" --target $(printf 'fuzz_%s ' $fuzz_targets)
for t in $fuzz_targets; do
	# seeds, then the inputs that once crashed it (replayed first)
	seeds=tests/fuzz/corpus-$t
	[ "$t" != frame ] || seeds=tests/fuzz/corpus
	regress=tests/fuzz/regress-$t
	[ -d "$regress" ] || regress=
	mkdir -p "build/fuzz/corpus-$t"
	if ! build/fuzz/tests/fuzz/fuzz_$t -max_total_time="$fuzz_each" \
		-timeout=10 -print_final_stats=1 -artifact_prefix="build/fuzz/$t-" \
		"build/fuzz/corpus-$t" $seeds $regress >"build/fuzz/$t.log" 2>&1; then
		tail -n 60 "build/fuzz/$t.log"
		echo "fuzz: fuzz_$t failed; the input is saved as build/fuzz/$t-crash-*" \
			"(or -leak-, -timeout-, -oom-); fix the bug, then keep the" \
			"input in tests/fuzz/regress-$t/"
		exit 1
	fi
	grep -E '^stat::(number_of_executed_units|new_units_added)' "build/fuzz/$t.log" |
		sed "s/^/fuzz_$t: /"
	grep -E '^#[0-9]+[[:space:]]+DONE' "build/fuzz/$t.log" | sed "s/^/fuzz_$t: /" || true
done

step "plain build"
build build/plain
ctest --test-dir build/plain --output-on-failure -j "$jobs" -LE valgrind

step "integration tests under valgrind"
METROLOG_TEST_WRAPPER="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99" \
	ctest --test-dir build/plain --output-on-failure -j "$jobs" -L valgrind -E '^mqtt_v5$'

step "AddressSanitizer + UndefinedBehaviorSanitizer build"
build build/asan -DMETROLOG_SANITIZE=ON
ctest --test-dir build/asan --output-on-failure -j "$jobs" \
	-E '^(package|man|completion|browser|collector_replay_v5|collector_multi)$'
