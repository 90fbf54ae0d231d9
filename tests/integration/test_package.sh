#!/bin/sh
# test_package.sh - the Debian package as the project builds it
# (packaging/package.cmake), from the programs already built in BUILD:
#
#   test_package.sh BUILD_DIR
#
# Builds metrolog_<version>_<arch>.deb with cpack into a temporary
# directory, then checks: every file with its mode and owner (dpkg-deb -c),
# the control fields, the conffiles list, the maintainer scripts; extracts
# it (dpkg-deb -x) into a throwaway root, creates the user and the state
# directory there from the package's own sysusers.d and tmpfiles.d files
# (systemd-sysusers/systemd-tmpfiles --root), and runs the extracted
# metrologd --check-config on the extracted default configuration and
# metrolog --help. Nothing is installed on this machine.
#
# Exit 0: passed; 77: skipped (no dpkg-deb, cpack or dpkg-shlibdeps),
# with the reason on standard output; 1: failed, each failure on one line.
set -eu

BUILD=$1
if ! command -v dpkg-deb >/dev/null || ! command -v dpkg-shlibdeps >/dev/null ||
	! command -v cpack >/dev/null; then
	echo "SKIPPED: building a .deb needs dpkg-deb, dpkg-shlibdeps (dpkg-dev) and cpack"
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/metrolog-pkg.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

# ---- build it --------------------------------------------------------------
VERSION=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' \
	"$BUILD/CPackConfig.cmake")
ARCH=$(dpkg --print-architecture)
if ! (cd "$BUILD" && cpack -G DEB -B "$TMP/cpack" \
	-D CPACK_OUTPUT_FILE_PREFIX="$TMP/out") >"$TMP/cpack.log" 2>&1; then
	cat "$TMP/cpack.log"
	echo "FAIL: cpack could not build the package"
	exit 1
fi
DEB=$TMP/out/metrolog_${VERSION}_${ARCH}.deb
if [ ! -f "$DEB" ]; then
	ls "$TMP/out"
	echo "FAIL: no $DEB"
	exit 1
fi
echo "built $(basename "$DEB")"

# ---- contents: path, mode, owner --------------------------------------------
dpkg-deb -c "$DEB" | awk '{ p = $6; sub(/^\./, "", p); print p, $1, $2 }' \
	>"$TMP/contents"
want() { # PATH MODE: in the package, owned by root, with that mode
	line=$(grep "^$1 " "$TMP/contents" || true)
	if [ -z "$line" ]; then
		fail "$1 is not in the package"
	elif [ "$line" != "$1 $2 root/root" ]; then
		fail "$1: want $2 root/root, got: $line"
	fi
}
want /usr/sbin/metrologd -rwxr-xr-x
want /usr/sbin/metrolog-collector -rwxr-xr-x
want /usr/lib/systemd/system/metrolog-collector.service -rw-r--r--
want /usr/share/doc/metrolog/COLLECTOR.md -rw-r--r--
want /usr/share/doc/metrolog/examples/collector.cfg -rw-r--r--
want /usr/bin/metrolog -rwxr-xr-x
want /usr/bin/metrolog-sim -rwxr-xr-x
want /usr/lib/metrolog/metrolog_archive.so -rw-r--r--
want /usr/lib/systemd/system/metrologd.service -rw-r--r--
want /usr/lib/systemd/system/metrolog-backup.service -rw-r--r--
want /usr/lib/systemd/system/metrolog-backup.timer -rw-r--r--
want /usr/sbin/metrolog-web -rwxr-xr-x
want /usr/lib/systemd/system/metrolog-web.service -rw-r--r--
want /usr/share/doc/metrolog/WEB.md -rw-r--r--
want /usr/lib/sysusers.d/metrolog.conf -rw-r--r--
want /usr/lib/tmpfiles.d/metrolog.conf -rw-r--r--
want /etc/metrolog/metrologd.cfg -rw-r--r--
want /etc/metrolog/ drwxr-xr-x
want /usr/share/doc/metrolog/copyright -rw-r--r--
want /usr/share/doc/metrolog/changelog.gz -rw-r--r--
want /usr/share/doc/metrolog/README.md -rw-r--r--
want /usr/share/doc/metrolog/CONFIG.md -rw-r--r--
want /usr/share/doc/metrolog/OPERATIONS.md -rw-r--r--
want /usr/share/doc/metrolog/examples/lab-bench.cfg -rw-r--r--
want /usr/share/doc/metrolog/examples/demo.cfg -rw-r--r--
want /usr/share/bash-completion/completions/metrolog -rw-r--r--
for page in man1/metrolog.1 man1/metrolog-sim.1 man5/metrologd.cfg.5 \
	man8/metrologd.8 man8/metrolog-collector.8 man8/metrolog-web.8; do
	want "/usr/share/man/$page.gz" -rw-r--r--
done
# nothing owned by anyone but root, no directory that is not 0755
if grep -v ' root/root$' "$TMP/contents"; then
	fail "files above are not owned by root/root"
fi
if grep '/ d' "$TMP/contents" | grep -v ' drwxr-xr-x '; then
	fail "directories above are not 0755"
fi
# /var/lib/metrolog is made at install by systemd-tmpfiles, not shipped
if grep -q '^/var' "$TMP/contents"; then
	fail "the package ships files under /var"
fi

# ---- control fields ---------------------------------------------------------
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = metrolog ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$VERSION" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$ARCH" ] ||
	fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
DEPENDS=$(field Depends)
# from dpkg-shlibdeps, one per outside library, and what the scripts run
for dep in libc6 libsqlite3-0 libmodbus5 libconfig9 libpaho-mqtt1.3 \
	libcjson1 libcairo2 libqrencode4 libmicrohttpd12 libsodium23 \
	'systemd | systemd-sysusers' \
	'systemd | systemd-tmpfiles' init-system-helpers; do
	case ", $DEPENDS," in
	*", $dep"[\ ,]*) ;;
	*) fail "Depends lacks $dep: $DEPENDS" ;;
	esac
done

# ---- conffiles and maintainer scripts ---------------------------------------
mkdir "$TMP/control"
dpkg-deb -e "$DEB" "$TMP/control"
if [ "$(cat "$TMP/control/conffiles")" != /etc/metrolog/metrologd.cfg ]; then
	fail "conffiles: $(cat "$TMP/control/conffiles")"
fi
for s in postinst prerm postrm; do
	f=$TMP/control/$s
	if [ ! -f "$f" ]; then
		fail "no $s"
		continue
	fi
	[ "$(stat -c %a "$f")" = 755 ] || fail "$s mode $(stat -c %a "$f")"
	sh -n "$f" || fail "$s: not valid sh"
	grep -q '^set -e$' "$f" || fail "$s: no set -e"
done
P=$TMP/control/postinst
grep -q '^	systemd-sysusers /usr/lib/sysusers.d/metrolog.conf$' "$P" ||
	fail "postinst does not run systemd-sysusers on our file"
grep -q '^	systemd-tmpfiles --create /usr/lib/tmpfiles.d/metrolog.conf$' "$P" ||
	fail "postinst does not run systemd-tmpfiles on our file"
# the lab configures before the service runs: nothing enabled or started
if grep -v '^ *#' "$P" | grep -E 'deb-systemd-helper (enable|reenable)|systemctl.*(enable|start)|deb-systemd-invoke (start|restart)'; then
	fail "postinst enables or starts metrologd"
fi
grep -q 'deb-systemd-invoke stop metrologd.service' "$TMP/control/prerm" ||
	fail "prerm does not stop metrologd"
R=$TMP/control/postrm
grep -q '"\$1" = "purge"' "$R" || fail "postrm does nothing on purge"
grep -q '/var/lib/metrolog is kept' "$R" ||
	fail "postrm purge does not say that /var/lib/metrolog is kept"
if grep -E '^[[:space:]]*rm +-[a-z]*r[a-z]* .*/var/lib/metrolog' "$R"; then
	fail "postrm deletes the database"
fi

# ---- the extracted programs ---------------------------------------------------
ROOT=$TMP/root
dpkg-deb -x "$DEB" "$ROOT"
# the units start what the package ships
for exe in $(sed -n 's/^Exec[A-Za-z]*=\([^ ]*\).*/\1/p' \
	"$ROOT/usr/lib/systemd/system/metrologd.service" \
	"$ROOT/usr/lib/systemd/system/metrolog-backup.service" | sort -u); do
	case "$exe" in
	/usr/sbin/* | /usr/bin/*)
		[ -x "$ROOT$exe" ] || fail "the unit runs $exe, not in the package"
		;;
	esac
done
# the unit: watched (Type=notify, WatchdogSec=) and sandboxed, exposure at
# most 2.0 ("OK") in systemd's own measure
UNIT=$ROOT/usr/lib/systemd/system/metrologd.service
grep -q '^Type=notify$' "$UNIT" || fail "the unit is not Type=notify"
grep -q '^WatchdogSec=[1-9]' "$UNIT" || fail "the unit has no WatchdogSec="
if command -v systemd-analyze >/dev/null; then
	if ! systemd-analyze security --offline=yes --threshold=20 "$UNIT" \
		>"$TMP/security" 2>&1; then
		tail -n 3 "$TMP/security"
		fail "systemd-analyze security: exposure above 2.0 (or an error)"
	fi
	B=$ROOT/usr/lib/systemd/system/metrolog-backup.service
	if ! systemd-analyze security --offline=yes --threshold=20 "$B" \
		>"$TMP/security" 2>&1; then
		tail -n 3 "$TMP/security"
		fail "metrolog-backup.service: exposure above 2.0 (or an error)"
	fi
else
	echo "note: no systemd-analyze: the unit's exposure not measured"
fi
# metrolog-web's unit: what it runs is shipped, it is notified, sandboxed
# at least as well, and it reads the database as a member of metrolog
WEBUNIT=$ROOT/usr/lib/systemd/system/metrolog-web.service
for exe in $(sed -n 's/^Exec[A-Za-z]*=\([^ ]*\).*/\1/p' "$WEBUNIT" | sort -u); do
	[ -x "$ROOT$exe" ] || fail "metrolog-web.service runs $exe, not in the package"
done
grep -q '^Type=notify$' "$WEBUNIT" || fail "metrolog-web.service is not Type=notify"
grep -q '^User=metrolog-web$' "$WEBUNIT" || fail "metrolog-web.service: not its own user"
grep -q '^SupplementaryGroups=metrolog$' "$WEBUNIT" ||
	fail "metrolog-web.service: not in the group metrolog"
if grep -q '^StateDirectory=' "$WEBUNIT"; then
	fail "metrolog-web.service has a StateDirectory= (it would own the database's directory)"
fi
if command -v systemd-analyze >/dev/null; then
	if ! systemd-analyze security --offline=yes --threshold=20 "$WEBUNIT" \
		>"$TMP/security-web" 2>&1; then
		tail -n 3 "$TMP/security-web"
		fail "systemd-analyze security metrolog-web: exposure above 2.0 (or an error)"
	fi
fi
"$ROOT/usr/sbin/metrolog-web" --help >"$TMP/help" 2>&1 ||
	fail "metrolog-web --help failed: $(cat "$TMP/help")"
# the default configuration, its database moved into the throwaway root
CFG=$ROOT/etc/metrolog/metrologd.cfg
grep -q '^database = "/var/lib/metrolog/metrolog.db";' "$CFG" ||
	fail "the default configuration's database is not /var/lib/metrolog/metrolog.db"
mkdir -p "$ROOT/var/lib/metrolog"
sed "s|^database = \"/var/lib/metrolog/|database = \"$ROOT/var/lib/metrolog/|" \
	"$CFG" >"$TMP/check.cfg"
if ! out=$("$ROOT/usr/sbin/metrologd" --check-config "$TMP/check.cfg" 2>&1); then
	fail "metrologd --check-config on the default configuration: $out"
else
	case "$out" in
	*": OK ("*) ;;
	*) fail "metrologd --check-config said: $out" ;;
	esac
fi
# --devices: a drop-in that allows exactly the configuration's serial
# lines, which systemd reads as that (the unit with it appended)
sed 's|^buses = (|buses = ( { name = "rs485-a"; type = "rtu"; device = "/dev/ttyUSB7"; baud = 9600; },|' \
	"$TMP/check.cfg" >"$TMP/rtu.cfg"
if ! "$ROOT/usr/sbin/metrologd" --devices "$TMP/rtu.cfg" >"$TMP/devices.conf" 2>&1; then
	fail "metrologd --devices: $(cat "$TMP/devices.conf")"
fi
[ "$(grep '^DeviceAllow=' "$TMP/devices.conf")" = "DeviceAllow=
DeviceAllow=/dev/ttyUSB7 rw" ] || fail "metrologd --devices wrote: $(cat "$TMP/devices.conf")"
if command -v systemd-analyze >/dev/null; then
	cat "$UNIT" "$TMP/devices.conf" >"$TMP/metrologd.service"
	systemd-analyze security --offline=yes "$TMP/metrologd.service" \
		>"$TMP/security" 2>&1 || true
	grep -q 'device ACL.* /dev/ttyUSB7:rw *[0-9]' "$TMP/security" &&
		! grep -q 'device ACL.*char-tty' "$TMP/security" ||
		fail "systemd does not read the drop-in as /dev/ttyUSB7 only: $(grep DeviceAllow "$TMP/security")"
fi
"$ROOT/usr/bin/metrolog" --help >"$TMP/help" 2>&1 ||
	fail "metrolog --help failed: $(cat "$TMP/help")"
grep -q '^Usage: metrolog ' "$TMP/help" || fail "metrolog --help: no usage"
"$ROOT/usr/bin/metrolog-sim" --help >/dev/null 2>&1 ||
	fail "metrolog-sim --help failed"

# ---- the user and the state directory, made in the throwaway root -------------
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	rmdir "$ROOT/var/lib/metrolog"
	mkdir -p "$ROOT/etc"
	systemd-sysusers --root="$ROOT" "$ROOT/usr/lib/sysusers.d/metrolog.conf" ||
		fail "systemd-sysusers refused the package's sysusers.d file"
	systemd-tmpfiles --create --root="$ROOT" \
		"$ROOT/usr/lib/tmpfiles.d/metrolog.conf" ||
		fail "systemd-tmpfiles refused the package's tmpfiles.d file"
	grep -q '^metrolog:x:[0-9]*:[0-9]*:.*:/var/lib/metrolog:/usr/sbin/nologin$' \
		"$ROOT/etc/passwd" || fail "no system user metrolog: $(cat "$ROOT/etc/passwd")"
	grep -q '^metrolog-web:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' \
		"$ROOT/etc/passwd" || fail "no system user metrolog-web"
	grep -q '^metrolog:x:[0-9]*:.*metrolog-web' "$ROOT/etc/group" ||
		fail "metrolog-web is not in the group metrolog: $(grep '^metrolog:' "$ROOT/etc/group")"
	uid=$(awk -F: '$1 == "metrolog" { print $3 }' "$ROOT/etc/passwd")
	gid=$(awk -F: '$1 == "metrolog" { print $3 }' "$ROOT/etc/group")
	for d in /var/lib/metrolog /var/backups/metrolog; do
		st=$(stat -c '%a %u %g' "$ROOT$d" 2>&1 || true)
		[ "$st" = "750 $uid $gid" ] ||
			fail "$d: want 750 $uid $gid, got $st"
	done
else
	echo "note: no systemd-sysusers/systemd-tmpfiles: user and directory not checked"
fi

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS failures"
	exit 1
fi
echo "package OK"
