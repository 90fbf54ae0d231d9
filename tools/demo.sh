#!/usr/bin/env bash
# Set up and run the metrolog demo on this machine (loopback only):
# three simulated lab instruments served by the firmware simulator over
# Modbus TCP, read live by the metrolog tool once a second.
#
#   tools/demo.sh                 run until Ctrl-C
#   DEMO_POLLS=10 tools/demo.sh   stop after 10 polls
#
# Time in the simulator runs 3600 times faster than the wall clock, so the
# drifting channel (unit 2, channel 1: +0.5 units/day) moves visibly.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh demo
cmake -S . -B build/plain -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/plain -j "$(nproc)" --target metrolog-sim metrolog metrologd

tmp=$(mktemp -d -t metrolog-demo.XXXXXX)
sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# unit 1: a calibration bath (degC) and its three thermometer probes
# unit 2: pressure gauges (kPa); channel 1 drifts by +0.5 kPa a day
# unit 3: a lab climate monitor: temperature (degC), humidity (%RH), pressure (hPa), CO2 (ppm)
build/plain/firmware/port/host/metrolog-sim \
	--tcp 127.0.0.1:0 --port-file "$tmp/port" -n 3 -m 4 --accel 3600 \
	-c 1.0:nominal=20,noise=0.001 -c 1.1:nominal=20.012,noise=0.003 \
	-c 1.2:nominal=19.994,noise=0.003 -c 1.3:nominal=20.003,noise=0.003 \
	-c 2.0:nominal=101.325,noise=0.002 -c 2.1:nominal=101.325,noise=0.002,drift=0.5 \
	-c 2.2:nominal=250,noise=0.01 -c 2.3:nominal=500,noise=0.02 \
	-c 3.0:nominal=23,noise=0.05 -c 3.1:nominal=45,noise=0.3 \
	-c 3.2:nominal=1013.2,noise=0.1 -c 3.3:nominal=420,noise=3 \
	2>"$tmp/sim.log" &
sim_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { cat "$tmp/sim.log"; echo "demo: the simulator did not start" >&2; exit 1; }
port=$(head -n 1 "$tmp/port")

cat <<MSG

metrolog demo: 3 simulated instruments x 4 channels on Modbus TCP 127.0.0.1:$port
(simulated time runs 3600x; unit 2 channel 1 drifts). Values are float32 input
registers 0-7 of each unit, read by:
  build/plain/tools/metrolog read --tcp 127.0.0.1:$port --unit 1,2,3 --count 4 --every 1
Ctrl-C stops.

MSG
build/plain/tools/metrolog read --tcp "127.0.0.1:$port" --unit 1,2,3 --count 4 \
	--every 1 ${DEMO_POLLS:+--times "$DEMO_POLLS"}
