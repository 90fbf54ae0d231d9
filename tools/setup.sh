#!/usr/bin/env bash
# Install what metrolog needs on Debian 12, idempotently.
#
#   tools/setup.sh demo   build tools, libraries (libpq, cairo, Pango, libqrencode
#                         and the DejaVu fonts for certificates and
#                         charts; libsodium and libmicrohttpd for
#                         metrolog-web), mosquitto, python3 (man pages)
#   tools/setup.sh test   the same, plus clang/libFuzzer, clang-format, valgrind, the
#                         arm-none-eabi toolchain and qemu for the firmware,
#                         poppler-utils (pdftotext, pdftoppm) to read
#                         certificates back, dpkg-dev, groff, systemd's
#                         tools and lintian for the package and man pages,
#                         PostgreSQL (the collector's tests start their own),
#                         libcurl (test_web) and chromium (the browser
#                         test; node and npm are the machine's)
#
# apt-get update runs only when a package is missing. Needs root or sudo.
set -euo pipefail

profile=${1:-demo}
pkgs=(build-essential cmake pkg-config
      libmodbus-dev libpaho-mqtt-dev libsqlite3-dev libconfig-dev
      libcjson-dev libcmocka-dev libssl-dev libpq-dev mosquitto mosquitto-clients sqlite3
      bsdextrautils python3
      libcairo2-dev libpango1.0-dev libqrencode-dev fonts-dejavu-core
      libsodium-dev libmicrohttpd-dev)
case "$profile" in
demo) ;;
test) pkgs+=(clang libclang-rt-14-dev clang-format valgrind openssl poppler-utils
             gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
             qemu-system-arm dpkg-dev groff-base systemd lintian
             postgresql libcurl4-openssl-dev chromium) ;;
*) echo "usage: tools/setup.sh demo|test" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	}
	sudo=(sudo)
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
