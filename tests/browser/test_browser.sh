#!/bin/bash
# test_browser.sh - metrolog-web in headless Chromium (tests/browser/
# board.mjs, playwright-core from npm driving Debian's chromium) against a
# real metrologd polling metrolog-sim, with an account made by
# `metrolog user add`: log in, watch a drifting channel turn to warning
# then out of tolerance live, open its instrument's page and trend, the
# week's worklist and the events log filtered, switch to Vietnamese, log
# out; then an
# enterprise's user logs in, sees its instrument and its history,
# downloads its certificate (the same text as the PDF `metrolog
# certificate` writes, by pdftotext), and anyone verifies it on /verify.
#
#   test_browser.sh SOURCE_DIR BUILD_DIR
#
# Screenshots (login.png, board.png, lab-instrument.png, lab-trend.png,
# lab-worklist.png, lab-events.png, board-vi.png, portal.png,
# instrument.png, verify.png) are kept in
# BUILD_DIR/browser-shots. playwright-core is installed once into
# BUILD_DIR/browser (npm ci, the versions of package-lock.json).
# Exit 0 passed, 1 failed, 77 skipped (no chromium, node or npm:
# tools/setup.sh test installs them).
set -eu

SRC=$1
BUILD=$2
# metrolog-web draws certificates: under ASan, LeakSanitizer would report
# the block fontconfig (through Pango) loses once per process
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$SRC/tests/integration/fontconfig.lsan"
CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ] || ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "SKIPPED: needs chromium, node and npm (tools/setup.sh test)"
	exit 77
fi
NM=$BUILD/browser
if [ ! -d "$NM/node_modules/playwright-core" ] ||
	! cmp -s "$SRC/tests/browser/package-lock.json" "$NM/package-lock.json"; then
	mkdir -p "$NM"
	cp "$SRC/tests/browser/package.json" "$SRC/tests/browser/package-lock.json" "$NM/"
	(cd "$NM" && npm ci --no-audit --no-fund --loglevel=error) || {
		echo "FAIL: npm ci of playwright-core"
		exit 1
	}
fi
# an ES module finds its packages beside it: run it from there
cp "$SRC/tests/browser/board.mjs" "$NM/board.mjs"
SHOTS=$BUILD/browser-shots
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png

TMP=$(mktemp -d "${TMPDIR:-/tmp}/metrolog-browser.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		{ kill -9 "$p" && wait "$p"; } 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

# wait_for SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# the simulator: c3 drifts 1 unit per simulated day, a simulated day per
# real minute from the first poll: warning (0.4 from 20) after about 24 s,
# out of tolerance (0.5) after about 30 s
"$BUILD/firmware/port/host/metrolog-sim" --tcp 127.0.0.1:0 --port-file "$TMP/sim.port" \
	-n 1 -m 4 -a 1440 --clock-on-request -c 0:nominal=20.5 -c 1:nominal=21 \
	-c 2:noise=0.5 -c 3:nominal=20,drift=1 >"$TMP/sim.log" 2>&1 &
PIDS+=($!)
wait_for 20 test -s "$TMP/sim.port" || { echo "FAIL: metrolog-sim did not start"; exit 1; }
SIMPORT=$(head -n 1 "$TMP/sim.port")

cat >"$TMP/m.cfg" <<CFG
site = "browser";
database = "$TMP/m.db";
customers = ( { id = "ACME"; name = "ACME Ltd"; address = "1 Road"; } );
standards = ( { id = "STD-1"; calibration_interval_days = 365; },
              { id = "STD-2"; calibration_interval_days = 365; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIMPORT; timeout_ms = 1000; } );
instruments = (
  { id = "TB-01"; bus = "b"; unit_id = 1; interval_ms = 250; owner = "ACME";
    location = "Phòng đo nhiệt độ / temperature room";
    channels = (
      { name = "c0"; table = "input"; address = 0; type = "float32"; unit = "degC";
        tolerance = { reference = 20.5; limit = 0.5; U = 0.01; }; },
      { name = "c1"; table = "input"; address = 2; type = "float32"; unit = "degC";
        tolerance = { reference = 20; limit = 0.05; U = 0.01; }; },
      { name = "c2"; table = "input"; address = 4; type = "float32"; unit = "kPa"; },
      { name = "c3"; table = "input"; address = 6; type = "float32"; unit = "degC";
        tolerance = { reference = 20; limit = 0.5; U = 0.01; }; }
    ); }
);
CFG
"$BUILD/gateway/metrologd" "$TMP/m.cfg" >"$TMP/metrologd.log" 2>&1 &
PIDS+=($!)
wait_for 60 test -s "$TMP/m.db" || { echo "FAIL: metrologd made no database"; exit 1; }
echo "browser-password-1" | "$BUILD/tools/metrolog" user add -d "$TMP/m.db" tech \
	--role technician >/dev/null
echo "browser-password-2" | "$BUILD/tools/metrolog" user add -d "$TMP/m.db" qm \
	--role enterprise --customer ACME >/dev/null
# a certificate of ACME's instrument, approved by another person
CERT=C-BROWSER/001
"$BUILD/tools/metrolog" calibrate -d "$TMP/m.db" -i TB-01 -c "$CERT" \
	--date "$(date -u +%Y-%m-%d)" -t "Trần Thị Bình" --lab "Phòng Hiệu chuẩn" \
	--point "c0,degC,20.5,20.52,20.51,-0.5,0.5,0.01,2" >"$TMP/calibrate.out"
"$BUILD/tools/metrolog" approve -d "$TMP/m.db" "$CERT" --by "Lê Văn Cường" >/dev/null
# the worklist: STD-1 never calibrated, STD-2 due in 3 days
"$BUILD/tools/metrolog" calibrate -d "$TMP/m.db" -i STD-2 -c S-BROWSER-2 \
	--date "$(date -u -d '362 days ago' +%Y-%m-%d)" -t "Trần Thị Bình" --lab "Phòng Hiệu chuẩn" \
	--point "r,ohm,100,100.01,,-1,1,0.01,2" >/dev/null
# the QR text the certificate prints: its number, record and hash
QR="metrolog:cert=$CERT;id=$(awk '$1 == "record" { print $2 }' "$TMP/calibrate.out")"
QR="$QR;hash=$(awk '$1 == "hash" { print $2 }' "$TMP/calibrate.out")"

"$BUILD/web/metrolog-web" -d "$TMP/m.db" --listen 127.0.0.1:0 >"$TMP/web.log" 2>&1 &
PIDS+=($!)
wait_for 30 grep -q 'listening on .* (port [0-9]*)' "$TMP/web.log" ||
	{ echo "FAIL: metrolog-web did not listen"; cat "$TMP/web.log"; exit 1; }
PORT=$(sed -n 's/.*listening on .* (port \([0-9]*\)).*/\1/p' "$TMP/web.log" | head -n 1)

rc=0
WEB_URL=http://127.0.0.1:$PORT WEB_USER=tech WEB_PASSWORD=browser-password-1 \
	WEB_ENTERPRISE=qm WEB_ENTERPRISE_PASSWORD=browser-password-2 WEB_CERT=$CERT \
	WEB_QR=$QR CHROMIUM=$CHROMIUM SHOTS=$SHOTS node "$NM/board.mjs" || rc=$?
# the certificate the browser downloaded is the one the tool draws
if [ "$rc" -eq 0 ]; then
	"$BUILD/tools/metrolog" certificate -d "$TMP/m.db" -c "$CERT" -o "$TMP/tool.pdf"
	pdftotext "$TMP/tool.pdf" "$TMP/tool.txt"
	pdftotext "$SHOTS/portal-certificate.pdf" "$TMP/web.txt"
	grep -q "$CERT" "$TMP/web.txt" || { echo "FAIL: the downloaded PDF lacks $CERT"; rc=1; }
	cmp -s "$TMP/tool.txt" "$TMP/web.txt" ||
		{ echo "FAIL: the downloaded PDF is not the tool's"; diff "$TMP/tool.txt" "$TMP/web.txt" | head; rc=1; }
fi
if [ "$rc" -ne 0 ]; then
	echo "--- metrolog-web's log (last lines)"
	tail -n 20 "$TMP/web.log"
fi
exit "$rc"
