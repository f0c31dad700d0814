#!/usr/bin/env bash
# S12 end to end: a bounded soak mixing everything at once from real
# processes: sriov_numvfs changes, a VF-enabling PF driver bound and
# unbound, ejected and added, error recovery, mdev creates and removes
# (and their parent's driver unbound and its removal), online/offline,
# sysfs remove and rescan, bus relations, lspci and devlifectl readers.
# Then, with everything quiet, a consistency check: every device LIVE, no
# orphan, every VF's physfn live and at its routing ID, every mdev under
# a live parent and its instances accounted, the tree as devlifectl and
# lspci report it identical, no invariant breached, and no leak (devlifed
# exits 0 only if no device object is left allocated).
#
# DL_SOAK_SECONDS sets the duration (default 12).
. "$(dirname "$0")/lib.sh"
require_env
DATA=$(dirname "$0")/data
SECS=${DL_SOAK_SECONDS:-12}
start_daemon -t "$DATA/soak.topo" || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
GP=$MNT/devices/pci0000:00/0000:00:02.0
PFB_KV="vendor=0x8086 device=0x10fb class=0x020000 bar0=512K,64 sriov=8,offset=0xc0,stride=2,vfdev=0x10ed vfbar0=16K,64,pref driver=sriov-pf probe_vfs=3"
END=$(( $(date +%s) + SECS ))
running() { [ "$(date +%s)" -lt "$END" ]; }
# note NAME: one successful operation of a loop
note() { echo >>"$WORK/n.$1"; }
q() { "$@" >/dev/null 2>&1; }

numvfs_loop() {
	while running; do
		q bash -c "echo $((RANDOM % 16 + 1)) > '$D/0000:01:00.0/sriov_numvfs'" && note numvfs
		q bash -c "echo 0 > '$D/0000:01:00.0/sriov_numvfs'"
	done
}
pf_loop() { # seed 001: the PF whose driver adds VFs in probe
	while running; do
		case $((RANDOM % 5)) in
		0) q bash -c "echo 0000:01:00.1 > '$MNT/bus/pci/drivers/sriov-pf/unbind'" &&
			q bash -c "echo 0000:01:00.1 > '$MNT/bus/pci/drivers/sriov-pf/bind'" && note pf ;;
		1) q CTL error 0000:01:00.1 && note pf ;;
		2) q CTL eject 0000:01:00.1 && q CTL add 0000:01:00.1 $PFB_KV && note pf ;;
		3) q bash -c "echo 1 > '$D/0000:01:00.1/remove'" && q bash -c "echo 1 > '$MNT/bus/pci/rescan'" && note pf ;;
		4) q bash -c "echo 0 > '$D/0000:01:00.1/sriov_numvfs'" && q bash -c "echo 3 > '$D/0000:01:00.1/sriov_numvfs'" && note pf ;;
		esac
	done
}
mdev_loop() { # seed 003
	local u t
	while running; do
		u=$(uuid $((RANDOM % 6 + 1)))
		t=vgpu
		[ $((RANDOM % 4)) = 0 ] && t=big
		case $((RANDOM % 8)) in
		0 | 1 | 2) q bash -c "echo $u > '$GP/mdev_supported_types/$t/create'" && note mdev ;;
		3 | 4) q bash -c "echo 1 > '$GP/$u/remove'" && note mdev ;;
		5) q bash -c "echo 0000:00:02.0 > '$MNT/bus/pci/drivers/mdev-parent/unbind'" &&
			q bash -c "echo 0000:00:02.0 > '$MNT/bus/pci/drivers/mdev-parent/bind'" && note mdev ;;
		6) q bash -c "echo 1 > '$GP/remove'" && q bash -c "echo 1 > '$MNT/bus/pci/rescan'" && note mdev ;;
		7) q ls -R "$MNT/bus/mdev/devices/" "$GP/mdev_supported_types" ;;
		esac
	done
}
mdev_user_loop() { # removes children while the other loop removes their parent
	while running; do
		for f in "$MNT"/bus/mdev/devices/*; do
			[ -e "$f" ] && q bash -c "echo 1 > '$f/remove'" && note mdevrm
		done
		sleep 0.01
	done
}
online_loop() { # seed 004
	while running; do
		case $((RANDOM % 6)) in
		0) q bash -c "echo 1 > '$D/0000:00:03.0/remove'" && q bash -c "echo 1 > '$MNT/bus/pci/rescan'" && note online ;;
		*) q bash -c "echo $((RANDOM % 2)) > '$D/0000:00:03.0/online'" && note online ;;
		esac
	done
}
host_loop() { # seed 000: relations and ejects on bus 00, errors
	while running; do
		case $((RANDOM % 3)) in
		0) q CTL relations 0000:00 0000:00:00.0 0000:00:01.0 0000:00:02.0 0000:00:03.0 0000:00:05.0 0000:00:06.0 &&
			q CTL add 0000:00:04.0 vendor=0x1af4 device=0x1042 class=0x010000 bar1=4K && note host ;;
		1) q CTL eject 0000:00:04.0 && q CTL add 0000:00:04.0 vendor=0x1af4 device=0x1042 class=0x010000 bar1=4K && note host ;;
		2) q CTL error 0000:00:05.0 && note host ;;
		esac
	done
}
reader_loop() {
	while running; do
		q $LSPCI -vvv && note lspci
		q $LSPCI -t
		q cat "$D"/*/config
		q CTL tree
	done
}

for l in numvfs_loop pf_loop mdev_loop mdev_user_loop online_loop host_loop reader_loop reader_loop; do
	$l &
	PIDS="${PIDS:-} $!"
done
# shellcheck disable=SC2086
check "S12: every loop ends (no deadlock)" wait_pids $((SECS + 30)) $PIDS
for n in numvfs pf mdev mdevrm online host lspci; do
	check "S12: the $n loop did something" test -s "$WORK/n.$n"
done
echo "# operations: $(for n in numvfs pf mdev mdevrm online host lspci; do printf '%s=%s ' $n "$(wc -l <"$WORK/n.$n" 2>/dev/null)"; done)"

# Quiet now: the consistency check.
check "S12: the daemon still serves" CTL tree
CTL tree >"$WORK/tree"
check "S12: every device LIVE, no user left" bash -c "! grep -v ' LIVE drv=[^ ]* users=0\$' '$WORK/tree'"
check "S12: no orphan: every top-level device is a root bus" bash -c "! grep -v '^pci\|^ ' '$WORK/tree'"
vf_ok=1
for pf in "$D"/*; do
	[ -e "$pf/sriov_numvfs" ] || continue
	n=$(cat "$pf/sriov_numvfs")
	off=$(cat "$pf/sriov_offset")
	stride=$(cat "$pf/sriov_stride")
	name=$(basename "$pf")
	links=$(ls "$pf" | grep -c '^virtfn')
	[ "$links" = "$n" ] || { echo "# $name: sriov_numvfs $n, $links virtfn links"; vf_ok=0; }
	bus=$((16#${name:5:2})) dev=$((16#${name:8:2})) fn=${name:11:1}
	rid=$(( (bus << 8) | (dev << 3) | fn ))
	for ((k = 0; k < n; k++)); do
		v=$(( rid + off + k * stride ))
		want=$(printf '0000:%02x:%02x.%x' $((v >> 8)) $(((v >> 3) & 31)) $((v & 7)))
		[ "$(readlink "$pf/virtfn$k")" = "../$want" ] || { echo "# $name virtfn$k -> $(readlink "$pf/virtfn$k"), want $want"; vf_ok=0; }
	done
done
for vf in "$D"/*; do
	[ -L "$vf/physfn" ] || continue
	[ -e "$vf/physfn/config" ] && grep -q "$(basename "$vf")" <(ls -l "$vf/physfn/") ||
		{ echo "# $(basename "$vf"): physfn $(readlink "$vf/physfn") is not live or does not list it"; vf_ok=0; }
done
check "S12: every VF at its routing ID, its physfn live, sriov_numvfs = its VFs" test $vf_ok = 1
mdev_ok=1
for m in "$MNT"/bus/mdev/devices/*; do
	[ -e "$m" ] || continue
	[ -f "$m/remove" ] && [ -e "$m/../config" ] || { echo "# $(basename "$m"): no live parent"; mdev_ok=0; }
done
for t in vgpu:3 big:1; do
	ty=${t%:*} max=${t#*:}
	if [ -d "$GP/mdev_supported_types" ]; then
		[ $(( $(ls "$GP/mdev_supported_types/$ty/devices" | wc -l) + $(cat "$GP/mdev_supported_types/$ty/available_instances") )) = "$max" ] ||
			{ echo "# $ty: instances do not add up"; mdev_ok=0; }
	fi
done
expect_eq "S12: the mdevs of the tree are those of bus/mdev/devices" \
	"$(grep -o '[0-9a-f]\{8\}-0000-4000-8000-[0-9a-f]\{12\}' "$WORK/tree" | sort | tr '\n' ' ')" \
	"$(ls "$MNT/bus/mdev/devices" | sort | tr '\n' ' ')"
check "S12: every mdev under a live parent, instances accounted" test $mdev_ok = 1
check "S12: the tree is not empty" test "$(grep -c '^ *0000:' "$WORK/tree")" -ge 8
expect_eq "S12: the tree as devlifectl and lspci report it" \
	"$(awk '$2 ~ /^\[/ { print $1, substr($2, 2, 9) }' "$WORK/tree" | sort | md5sum)" \
	"$($LSPCI -D -n 2>/dev/null | awk '{ print $1, $3 }' | sort | md5sum)"
expect_eq "S12: no invariant breached" "$(violations)" 0
check "S12: devlifed exits 0 on SIGTERM (no leak)" stop_daemon
finish
