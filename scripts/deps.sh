#!/bin/sh
# Install the Debian packages the build, the tests and the daemon need.
# As root: apt-get installs what is missing. Otherwise: print the exact
# command and fail.
set -e
PKGS="meson ninja-build pkg-config gcc liburcu-dev libfuse3-dev fuse3 pciutils python3 udev libudev-dev python3-pyudev hwloc-nox mdevctl driverctl kmod dpdk python3-pytest"
[ -n "$DEVLIFE_EXTRA_PKGS" ] && PKGS="$PKGS $DEVLIFE_EXTRA_PKGS"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "devlife needs these Debian packages:$missing" >&2
	echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q $missing >/dev/null
