#!/bin/sh
# package.sh - build the Debian package metrolog_<version>_<arch>.deb into
# build/pkg/ (docs/OPERATIONS.md, "Install").
#
#   tools/package.sh            build in build/release, package, run lintian
#                               when it is installed
#   BUILD=DIR tools/package.sh  another build directory
#
# The programs are built with Debian's hardening flags (dpkg-buildflags:
# stack protector, _FORTIFY_SOURCE, relro and bind-now), as a Debian
# package's are. Needs cmake, dpkg-dev (dpkg-shlibdeps, dpkg-buildflags)
# and the build dependencies of tools/setup.sh.
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
OUT=$(pwd)/build/pkg

export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CFLAGS=$(dpkg-buildflags --get CFLAGS)
CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS)
LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
export CFLAGS="$CFLAGS $CPPFLAGS" LDFLAGS

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMETROLOG_FIRMWARE=OFF -DCMAKE_INSTALL_PREFIX=/usr
cmake --build "$BUILD" -j"$(nproc)" --target metrologd metrolog \
	metrolog-sim metrolog_archive metrolog_pkgfiles metrolog_man
mkdir -p "$OUT"
(cd "$BUILD" && cpack -G DEB -D CPACK_OUTPUT_FILE_PREFIX="$OUT")
DEB=$(ls -t "$OUT"/metrolog_*.deb | head -n 1)
echo "package: $DEB"
if command -v lintian >/dev/null; then
	# every tag left is explained in docs/OPERATIONS.md, "The package"
	lintian -I "$DEB" || true
fi
