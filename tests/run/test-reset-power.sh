#!/usr/bin/env bash
# Under devlife-run, a shell resets a function and drives its runtime PM
# at the paths real tools use: /sys/bus/pci/devices/D/reset,
# reset_method and power/ (drivers/pci/pci-sysfs.c reset_store(),
# drivers/base/power/sysfs.c control_store()).
. "$(dirname "$0")/../fs/lib.sh"
require_env
[ "$(id -u)" -eq 0 ] || skip_all "needs root (devlife-run's mount namespace)"
[ -x "${DEVLIFE_RUN:-}" ] || { echo "Bail out! DEVLIFE_RUN not set"; exit 1; }
RUN=$DEVLIFE_RUN
in_run() { timeout 120 "$RUN" -- sh -c "$1" >"$WORK/run.out" 2>"$WORK/run.err"; }

in_run 'cd /sys/bus/pci/devices/0000:01:00.0 && cat reset_method && setpci -s 01:00.0 COMMAND=0146 &&
	echo 1 > reset && echo reset=$? && setpci -s 01:00.0 COMMAND && readlink driver'
expect_eq "echo 1 > reset: the methods, the reset, the Command register kept, still bound" \
	"$(tr '\n' ' ' <"$WORK/run.out")" "flr bus reset=0 0146 ../../../../bus/pci/drivers/devlife-nic "
# (coreutils' echo names the errno; dash's builtin says only I/O error)
in_run 'cd /sys/bus/pci/devices/0000:01:00.0 && env echo 2 > reset; echo > reset_method; env echo 1 > reset; echo default > reset_method; cat reset_method'
expect_eq "a shell sees the kernel's errors" "$(tr '\n' ' ' <"$WORK/run.err" | grep -o 'Invalid argument\|Inappropriate ioctl for device' | tr '\n' ' ')" \
	"Invalid argument Inappropriate ioctl for device "
expect_eq "default probes the methods again" "$(cat "$WORK/run.out")" "flr"
in_run 'P=/sys/bus/pci/devices/0000:00:05.0/power; cat $P/control $P/runtime_status; echo auto > $P/control;
	cat $P/control $P/runtime_status; echo on > $P/control; cat $P/runtime_status; echo off > $P/control || echo refused'
expect_eq "power/control as a shell drives it: on, auto (suspended), on again, off refused" \
	"$(tr '\n' ' ' <"$WORK/run.out")" "on active auto suspended active refused "
finish
