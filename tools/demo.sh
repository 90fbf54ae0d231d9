#!/usr/bin/env bash
# Set up and run the metrolog demo on this machine (loopback only):
# three simulated lab instruments served over Modbus TCP by the firmware
# simulator, polled by metrologd into a SQLite database and published to a
# local mosquitto broker; every two seconds, the latest committed readings
# and the latest MQTT message of the drifting instrument.
#
#   tools/demo.sh                   run until Ctrl-C
#   DEMO_SECONDS=20 tools/demo.sh   stop by itself after 20 s
#
# Simulated time runs 3600 times faster than the wall clock, so the
# drifting gauges (PG-2 gauge-2: +0.5 kPa a day, gauge-3: +0.2 kPa a day)
# move visibly. At start it records calibrations with `metrolog calibrate`
# (two reference standards, two instruments), approves three of them with
# `metrolog approve` (the lab manager, not the technician; PG-2's record
# stays a draft), prints the lab's worklist
# (`metrolog due`), checks the audit chain (`metrolog verify`), asks for an
# enterprise's records over MQTT as its customer would, and writes the
# approved certificate of BATH-1 and the draft of PG-2 as PDFs; the trend
# picture of gauge-3 is redrawn as it runs. Those files and the database
# (build/demo/demo.db, made afresh at each start and kept at exit, so that
# the commands of README.md run on it) stay in build/demo/; everything
# else lives in a temporary directory, removed at exit. The configuration
# is config/demo.cfg with the simulator's port, the broker and the
# database filled in. The broker is a private mosquitto on a free loopback
# port.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh demo
cmake -S . -B build/plain -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/plain -j "$(nproc)" --target metrolog-sim metrolog metrologd metrolog_archive

tmp=$(mktemp -d -t metrolog-demo.XXXXXX)
out=build/demo
db=$PWD/$out/demo.db
mkdir -p "$out"
rm -f "$db" "$db-wal" "$db-shm"
pids=()
cleanup() {
	# SIGTERM: metrologd commits what it read and closes the database
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
	if [ -s "$db" ]; then
		cat <<MSG

metrolog demo stopped. Its database stays in $out/demo.db: try what
README.md shows ("Calibration records and certificates"), from here:
  export METROLOG_DB=$out/demo.db PATH=\$PWD/build/plain/tools:\$PATH
  metrolog instruments; metrolog due; metrolog calibrations
  metrolog readings PG-2/gauge-2 --from -1h
  metrolog trend PG-2/gauge-3 --from -1d -o gauge-3.svg
MSG
	fi
}
trap cleanup EXIT
trap 'exit 0' INT TERM

build/plain/firmware/port/host/metrolog-sim \
	--tcp 127.0.0.1:0 --port-file "$tmp/port" -n 3 -m 4 --accel 3600 \
	-c 1.0:nominal=20,noise=0.001 -c 1.1:nominal=20.012,noise=0.003 \
	-c 1.2:nominal=19.994,noise=0.003 -c 1.3:nominal=20.003,noise=0.003 \
	-c 2.0:nominal=101.325,noise=0.002 -c 2.1:nominal=101.325,noise=0.002,drift=0.5 \
	-c 2.2:nominal=250,noise=0.01,drift=0.2 -c 2.3:nominal=500,noise=0.02 \
	-c 3.0:nominal=23,noise=0.05 -c 3.1:nominal=45,noise=0.3 \
	-c 3.2:nominal=1013.2,noise=0.1 -c 3.3:nominal=420,noise=3 \
	2>"$tmp/sim.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { cat "$tmp/sim.log"; echo "demo: the simulator did not start" >&2; exit 1; }
port=$(head -n 1 "$tmp/port")

# A private broker on a free port (mosquitto cannot pick one itself).
mport=
for _ in $(seq 20); do
	p=$((20000 + RANDOM % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
	printf 'listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n' "$p" >"$tmp/mosquitto.conf"
	mosquitto -c "$tmp/mosquitto.conf" 2>"$tmp/mosquitto.log" &
	pids+=($!)
	for _ in $(seq 40); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { mport=$p; break; }; sleep 0.05; done
	[ -n "$mport" ] && break
done
[ -n "$mport" ] || { cat "$tmp/mosquitto.log"; echo "demo: mosquitto did not start" >&2; exit 1; }
mosquitto_sub -p "$mport" -v -q 1 -t 'metrolog/demo/#' >"$tmp/mqtt.log" 2>&1 &
pids+=($!)

sed -e "s|port = 1502;|port = $port;|" -e "s|logo = \"demo-logo.png\";|logo = \"$PWD/config/demo-logo.png\";|" -e "s|database = \"demo.db\";|database = \"$db\";|" \
	config/demo.cfg >"$tmp/demo.cfg"
printf 'mqtt = { host = "127.0.0.1"; port = %d; prefix = "metrolog"; requests = true; };\n' "$mport" >>"$tmp/demo.cfg"
build/plain/gateway/metrologd --check-config "$tmp/demo.cfg"
build/plain/gateway/metrologd "$tmp/demo.cfg" 2>"$tmp/metrologd.log" &
gw_pid=$!
pids+=($gw_pid)

# Calibration records, as a technician would enter them, and their
# certificates (tools/demo-records.sh); CLIMATE-3 never calibrated.
for _ in $(seq 100); do
	[ "$(sqlite3 -readonly "$db" 'SELECT count(*) FROM instruments' 2>/dev/null)" = 5 ] && break
	sleep 0.1
done
ml() { build/plain/tools/metrolog "$@" -d "$db"; }
# the sqlite3 shell with the archive's reader (the readings view needs it)
sql() { sqlite3 -readonly -cmd ".load build/plain/gateway/metrolog_archive" "$@"; }
tools/demo-records.sh "$db" "$out"
echo
echo "The approved certificate against ISO/IEC 17025:2017 7.8 (tools/check-certificate.sh):"
tools/check-certificate.sh "$out/certificate-DEMO-C-002.pdf" | tail -n 1
echo
echo "The lab's worklist (metrolog due) and the audit chain (metrolog verify):"
ml due
ml verify
echo
echo "An enterprise (viet-a, the owner of BATH-1 and PG-2) asks for its calibration"
echo "records over MQTT (docs/MQTT.md, Records on request); the start of the reply:"
mosquitto_sub -p "$mport" -q 1 -t 'metrolog/demo/replies/viet-a/#' -C 1 -W 10 >"$tmp/reply.json" 2>&1 &
reply_pid=$!
sleep 0.5
mosquitto_pub -p "$mport" -q 1 -t metrolog/demo/requests/viet-a/records \
	-m '{"reply_to":"metrolog/demo/replies/viet-a/1","correlation":"demo-1"}'
wait "$reply_pid" || true
cut -c1-600 "$tmp/reply.json"

cat <<MSG

metrolog demo: 3 simulated instruments x 4 channels (metrolog-sim on Modbus TCP
127.0.0.1:$port), polled by metrologd into $out/demo.db and published to
mosquitto on 127.0.0.1:$mport (topics metrolog/demo/#, docs/MQTT.md).
Simulated time runs 3600x; PG-2 gauge-2 drifts out of its +-0.2 kPa tolerance
within about 20 s (tolerance events below), and the trend of gauge-3 predicts
when it will leave its +-0.25 kPa (trend events). Ctrl-C stops; the database
stays in $out/demo.db for README.md's commands.
The certificate of BATH-1 is $out/certificate-DEMO-C-002.pdf (approved), PG-2's
draft $out/certificate-DEMO-C-001-draft.pdf; the trend picture
of PG-2/gauge-3 is redrawn into $out/trend-gauge-3.png every 10 s.
Every 2 s, the latest committed readings and the latest MQTT message of PG-2:
MSG
# times for people in the lab's time: its zone as metrologd stored it
# (the lab's timezone setting), else the machine's; sqlite3's 'localtime'
# and date(1) follow TZ
zone=$(sqlite3 -readonly "$db" "SELECT timezone FROM lab WHERE timezone != ''" 2>/dev/null || true)
[ -z "$zone" ] || export TZ=":$zone"
query="SELECT i.name, c.name, printf('%.4f', r.value), c.unit,
  strftime('%H:%M:%f', r.ts / 1e6, 'unixepoch', 'localtime')
  FROM readings r JOIN channels c ON c.id = r.channel
  JOIN instruments i ON i.id = c.instrument_id
  WHERE r.ts = (SELECT max(ts) FROM readings WHERE channel = r.channel)
  GROUP BY r.channel ORDER BY i.name, c.name;"
end=$((SECONDS + ${DEMO_SECONDS:-1000000000}))
loops=0
while ((SECONDS < end)); do
	sleep 2
	kill -0 "$gw_pid" 2>/dev/null || { cat "$tmp/metrologd.log"; echo "demo: metrologd stopped" >&2; exit 1; }
	echo "---- $(date +%H:%M:%S) (UTC$(date +%:z), the lab's time), $(sql "$db" 'SELECT count(*) FROM readings') readings committed, $(wc -l <"$tmp/mqtt.log") MQTT messages received"
	sql -separator '|' "$db" "$query" | column -t -s '|' || true
	grep '^metrolog/demo/PG-2/readings ' "$tmp/mqtt.log" | tail -n 1 | cut -c1-200 || true
	sqlite3 -readonly "$db" "SELECT line FROM (SELECT e.id, kind || ' event '
	  || strftime('%H:%M:%S', e.ts / 1e6, 'unixepoch', 'localtime') || ' ' || c.name || ': ' || detail AS line
	  FROM events e JOIN channels c ON c.id = e.channel_id WHERE kind IN ('tolerance', 'trend')
	  ORDER BY e.id DESC LIMIT 5) ORDER BY id" || true
	if ((++loops % 5 == 0)); then
		ml trend PG-2/gauge-3 -o "$out/trend-gauge-3.png" 2>/dev/null || true
	fi
done
