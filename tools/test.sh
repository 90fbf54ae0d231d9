#!/usr/bin/env bash
# Set up and run every test of metrolog. This is what CI runs (.ci/run).
#
#   1. install missing packages (tools/setup.sh test); refuse C sources
#      that differ from .clang-format
#   2. fuzz the Modbus frame parser for a bounded time (clang, libFuzzer)
#   3. plain build: every ctest test, then the integration tests again with
#      every spawned program under valgrind (leaks and memory errors fail)
#   4. AddressSanitizer + UndefinedBehaviorSanitizer build: every ctest test
#
# Environment: FUZZ_SECONDS (default 30), JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh test
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-30}

step() { printf '\n==== %s\n' "$*"; }

build() { # build DIR [cmake args...]
	local dir=$1
	shift
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
}

step "format: every C file as .clang-format says"
unformatted=$(find firmware gateway tools tests -name '*.[ch]' -print0 |
	xargs -0 -n 50 clang-format --dry-run 2>&1 | grep -oE '^[^:]+\.[ch]' | sort -u || true)
if [ -n "$unformatted" ]; then
	printf '%s\n' $unformatted
	echo "format: these files differ from .clang-format; run: clang-format -i FILE"
	exit 1
fi

step "fuzz: Modbus frame parser, ${fuzz_seconds} s"
CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMETROLOG_FUZZ=ON -DMETROLOG_FIRMWARE=OFF >/dev/null
cmake --build build/fuzz -j "$jobs" --target fuzz_frame
mkdir -p build/fuzz/corpus
if ! build/fuzz/tests/fuzz/fuzz_frame -max_total_time="$fuzz_seconds" \
	-print_final_stats=1 -artifact_prefix=build/fuzz/ build/fuzz/corpus tests/fuzz/corpus \
	>build/fuzz/fuzz.log 2>&1; then
	tail -n 60 build/fuzz/fuzz.log
	echo "fuzz: the frame parser failed; the input is saved as build/fuzz/crash-*"
	exit 1
fi
grep -E '^stat::(number_of_executed_units|new_units_added)' build/fuzz/fuzz.log

step "fuzz: UTC time parser, ${fuzz_seconds} s"
cmake --build build/fuzz -j "$jobs" --target fuzz_utc
mkdir -p build/fuzz/corpus_utc
if ! build/fuzz/tests/fuzz/fuzz_utc -max_total_time="$fuzz_seconds" -max_len=64 \
	-print_final_stats=1 -artifact_prefix=build/fuzz/utc- build/fuzz/corpus_utc \
	tests/fuzz/corpus_utc >build/fuzz/fuzz_utc.log 2>&1; then
	tail -n 60 build/fuzz/fuzz_utc.log
	echo "fuzz: the UTC time parser failed; the input is saved as build/fuzz/utc-crash-*"
	exit 1
fi
grep -E '^stat::(number_of_executed_units|new_units_added)' build/fuzz/fuzz_utc.log

step "plain build"
build build/plain
ctest --test-dir build/plain --output-on-failure -j "$jobs"

step "integration tests under valgrind"
METROLOG_TEST_WRAPPER="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99" \
	ctest --test-dir build/plain --output-on-failure -j "$jobs" -L valgrind

step "AddressSanitizer + UndefinedBehaviorSanitizer build"
build build/asan -DMETROLOG_SANITIZE=ON
ctest --test-dir build/asan --output-on-failure -j "$jobs"
