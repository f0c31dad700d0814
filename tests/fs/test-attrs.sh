#!/usr/bin/env bash
# Every writable attribute as the kernel function that defines it
# (docs/attributes.md, one check per row): accepted forms, the trailing
# newline, a NUL, offsets, errors, modes; the `resource` layout; a
# config read of a removed function fails, never short.
. "$(dirname "$0")/lib.sh"
require_env
start_daemon || { echo "Bail out! devlifed did not start"; exit 1; }
D=$MNT/bus/pci/devices
DRV=$MNT/bus/pci/drivers

# w FILE TEXT [OFFSET]: one write(2) (pwrite at OFFSET) of TEXT, which
# may hold Python escapes (\x00, \n); prints OK or the errno's name.
w() {
	python3 - "$@" <<'PY'
import codecs, errno, os, sys
data = codecs.decode(sys.argv[2], "unicode_escape").encode("latin-1")
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    n = os.pwrite(fd, data, int(sys.argv[3])) if len(sys.argv) > 3 else os.write(fd, data)
    print("OK" if n == len(data) else "SHORT %d" % n)
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}
mode() { stat -c %a "$1"; }

# Modes (pci-sysfs.c, iov.c, bus.c, mdev_sysfs.c)
F=$D/0000:00:03.0
expect_eq "modes: config driver_override remove rescan numa_node" \
	"$(mode $F/config) $(mode $F/driver_override) $(mode $F/remove) $(mode $F/rescan) $(mode $F/numa_node)" "644 644 220 200 644"
PF=$D/0000:01:00.0
expect_eq "modes: sriov_numvfs sriov_drivers_autoprobe" "$(mode $PF/sriov_numvfs) $(mode $PF/sriov_drivers_autoprobe)" "664 644"
expect_eq "modes: bus rescan, bind, unbind" "$(mode $MNT/bus/pci/rescan) $(mode $DRV/pci-stub/bind) $(mode $DRV/pci-stub/unbind)" "200 200 200"

# driver_override_store() -> driver_set_override()
O=$D/0000:00:05.0/driver_override
expect_eq "override: name with newline" "$(w $O 'pci-stub\n') $(cat $O)" "OK pci-stub"
expect_eq "override: cut at the first newline" "$(w $O 'vfio-pci\nxyz') $(cat $O)" "OK vfio-pci"
expect_eq "override: a lone NUL clears (dpdk-devbind)" "$(w $O '\x00') $(cat $O)" "OK (null)"
w $O pci-stub >/dev/null
expect_eq "override: a lone newline clears" "$(w $O '\n') $(cat $O)" "OK (null)"
expect_eq "override: the text ends at a NUL" "$(w $O 'pci-stub\x00junk') $(cat $O)" "OK pci-stub"
expect_eq "override: the offset is ignored" "$(w $O 'vfio-pci' 100) $(cat $O)" "OK vfio-pci"
w $O '\n' >/dev/null

# remove_store(): kstrtoul(buf, 0)
R=$F/remove
for t in 0 '0\n' '+0' 0x0 00 '0\x00junk'; do
	expect_eq "remove: '$t' is 0 (nothing)" "$(w $R "$t") $(test -e $F && echo there)" "OK there"
done
for t in -1 ' 1' '\t1' '1\n\n' 'x\x001' '\x00' 1x 0x; do
	expect_eq "remove: '$t' is EINVAL" "$(w $R "$t")" EINVAL
done
expect_eq "remove: a write at an offset" "$(w $R 0 4096) $(test -e $F && echo there)" "OK there"

# dev_rescan_store(), rescan_store() (the bus's): kstrtoul
expect_eq "rescan: 0" "$(w $F/rescan 0)" OK
expect_eq "rescan: yes is EINVAL" "$(w $F/rescan yes)" EINVAL
expect_eq "bus rescan: +1" "$(w $MNT/bus/pci/rescan '+1')" OK
expect_eq "bus rescan: on is EINVAL" "$(w $MNT/bus/pci/rescan on)" EINVAL

# sriov_numvfs_store(): kstrtou16, > TotalVFs ERANGE, n -> m EBUSY
N=$PF/sriov_numvfs
expect_eq "numvfs: +2" "$(w $N '+2') $(cat $N)" "OK 2"
expect_eq "numvfs: 2 -> 3 is EBUSY" "$(w $N 3) $(cat $N)" "EBUSY 2"
expect_eq "numvfs: 0x0" "$(w $N 0x0) $(cat $N)" "OK 0"
expect_eq "numvfs: 65 (TotalVFs 64) is ERANGE" "$(w $N 65)" ERANGE
expect_eq "numvfs: 65536 is EINVAL" "$(w $N 65536)" EINVAL
expect_eq "numvfs: two newlines is EINVAL" "$(w $N '1\n\n')" EINVAL
expect_eq "numvfs: a lone NUL is EINVAL" "$(w $N '\x00')" EINVAL

# sriov_drivers_autoprobe_store(): kstrtobool
A=$PF/sriov_drivers_autoprobe
expect_eq "autoprobe: off" "$(w $A off) $(cat $A)" "OK 0"
expect_eq "autoprobe: yes (only the y counts)" "$(w $A yes) $(cat $A)" "OK 1"
expect_eq "autoprobe: maybe is EINVAL" "$(w $A maybe) $(cat $A)" "EINVAL 1"

# enable_show()/enable_store(): the enable count; pci_enable_device(),
# pci_disable_device(); a driver that enables its function counts
SP="setpci -A linux-sysfs -O sysfs.path=$MNT/bus/pci"
TD=$D/0000:00:05.0
expect_eq "enable: 644; bound to virtio-pci, pcieport: 1; no driver: 0" \
	"$(mode $F/enable) $(cat $F/enable) $(cat $D/0000:00:01.0/enable) $(cat $TD/enable)" "644 1 1 0"
expect_eq "enable: a bound function is busy" "$(w $F/enable 0) $(cat $F/enable)" "EBUSY 1"
expect_eq "enable: 0 on a disabled one: EIO" "$(w $TD/enable 0) $(cat $TD/enable)" "EIO 0"
expect_eq "enable: not a number" "$(w $TD/enable x) $(w $TD/enable -1) $(cat $TD/enable)" "EINVAL EINVAL 0"
check "clear the test device's decode bits" $SP -s 00:05.0 COMMAND=0:7
expect_eq "enable: 1" "$(w $TD/enable 1) $(cat $TD/enable)" "OK 1"
expect_eq "the first enable turned its memory decode on (pci_enable_resources())" "$($SP -s 00:05.0 COMMAND)" 0002
expect_eq "enable: counted" "$(w $TD/enable 0x2) $(cat $TD/enable)" "OK 2"
check "make it a bus master" $SP -s 00:05.0 COMMAND=4:4
expect_eq "enable: 0, still enabled once" "$(w $TD/enable 0) $(cat $TD/enable) $($SP -s 00:05.0 COMMAND)" "OK 1 0006"
expect_eq "enable: 0, the last turns Bus Master off" "$(w $TD/enable 0) $(cat $TD/enable) $($SP -s 00:05.0 COMMAND)" "OK 0 0002"
check "virtio-pci lets 00:03.0 go" sh -c "echo 0000:00:03.0 > '$DRV/virtio-pci/unbind'"
expect_eq "its remove disabled it" "$(cat $F/enable)" 0
check "bound again" sh -c "echo 0000:00:03.0 > '$DRV/virtio-pci/bind'"
expect_eq "its probe enabled it" "$(cat $F/enable)" 1

# d3cold_allowed_store(): kstrtoul, non-zero allows (pci_pm_init()'s default)
C=$F/d3cold_allowed
expect_eq "d3cold_allowed: 644, allowed at first" "$(mode $C) $(cat $C)" "644 1"
expect_eq "d3cold_allowed: 0" "$(w $C '0\n') $(cat $C)" "OK 0"
expect_eq "d3cold_allowed: 0x10 is non-zero" "$(w $C 0x10) $(cat $C)" "OK 1"
expect_eq "d3cold_allowed: +0" "$(w $C +0) $(cat $C)" "OK 0"
expect_eq "d3cold_allowed: -1 is refused, nothing changes" "$(w $C -1) $(cat $C)" "EINVAL 0"
expect_eq "d3cold_allowed: y (kstrtoul, not kstrtobool)" "$(w $C y) $(cat $C)" "EINVAL 0"
expect_eq "d3cold_allowed: per function" "$(cat $PF/d3cold_allowed)" 1

# numa_node_store(): kstrtoint, NUMA_NO_NODE or an online node
U=$F/numa_node
expect_eq "numa_node: 0" "$(w $U 0) $(cat $U)" "OK 0"
expect_eq "numa_node: -1" "$(w $U -1) $(cat $U)" "OK -1"
expect_eq "numa_node: 7 is not online" "$(w $U 7) $(cat $U)" "EINVAL -1"
expect_eq "numa_node: -2 is EINVAL" "$(w $U -2)" EINVAL
expect_eq "numa_node: -+1 is EINVAL" "$(w $U -+1)" EINVAL

# unbind_store(), bind_store(): the name (sysfs_streq: one newline)
expect_eq "unbind: name and newline" "$(w $DRV/virtio-pci/unbind '0000:00:03.0\n')" OK
expect_eq "unbind: not bound to it is ENODEV" "$(w $DRV/virtio-pci/unbind 0000:00:03.0)" ENODEV
expect_eq "bind: a lone NUL is ENODEV" "$(w $DRV/virtio-pci/bind '\x00')" ENODEV
expect_eq "bind" "$(w $DRV/virtio-pci/bind 0000:00:03.0) $(basename "$(readlink $F/driver)")" "OK virtio-pci"
expect_eq "bind: already bound is EBUSY" "$(w $DRV/virtio-pci/bind 0000:00:03.0)" EBUSY
expect_eq "bind: a driver that does not match is ENODEV" "$(w $DRV/devlife-nic/bind 0000:00:05.0)" ENODEV

# create_store(): 36 or 37 bytes, guid_parse() of the first 36
TY=$(ls -d $MNT/devices/pci0000:00/0000:00:02.0/mdev_supported_types/* | tail -1)
expect_eq "create: 36" "$(w $TY/create 11111111-2222-3333-4444-555555555555)" OK
expect_eq "create: 37 with a newline" "$(w $TY/create '21111111-2222-3333-4444-555555555555\n')" OK
expect_eq "create: 37, the last byte not looked at" "$(w $TY/create 31111111-2222-3333-4444-555555555555x)" OK
expect_eq "create: 35 is EINVAL" "$(w $TY/create 1111111-2222-3333-4444-555555555555)" EINVAL
expect_eq "create: the same UUID is EEXIST" "$(w $TY/create 11111111-2222-3333-4444-555555555555)" EEXIST
# mdev remove_store(): kstrtoul, mode 0200
M=$MNT/bus/mdev/devices/11111111-2222-3333-4444-555555555555
expect_eq "mdev remove: mode 200" "$(mode $M/remove)" 200
expect_eq "mdev remove: junk is EINVAL" "$(w $M/remove junk)" EINVAL
expect_eq "mdev remove: 1" "$(w $M/remove 1) $(test -e $M || echo gone)" "OK gone"
for u in 2 3; do w $MNT/bus/mdev/devices/${u}1111111-2222-3333-4444-555555555555/remove 1 >/dev/null; done

# sysfs_kf_bin_write(): at or past the file's size EFBIG, a write running
# past it cut; sysfs_kf_bin_read(): past the end reads nothing
C=$F/config
csize=$(stat -c %s "$C")
expect_eq "config: a write past the end is EFBIG" "$(w $C 'AAAA' 8192)" EFBIG
expect_eq "config: a write at the end is EFBIG" "$(w $C 'AAAA' $csize)" EFBIG
expect_eq "config: a write running past the end is cut" "$(w $C '\x00\x00\x00\x00\x00\x00\x00\x00' $((csize - 4)))" "SHORT 4"
expect_eq "config: a read past the end reads nothing" "$(python3 -c "import os; fd = os.open('$C', os.O_RDONLY); print(len(os.pread(fd, 64, 8192)))")" 0

# A config read of a function that is gone fails (ENODEV); never short.
python3 - "$C" "$R" >"$WORK/gone.out" <<'PY'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
full = len(os.pread(fd, 4096, 0))
w = os.open(sys.argv[2], os.O_WRONLY)
os.write(w, b"1")
try:
    print(full, len(os.pread(fd, 4096, 0)))
except OSError as e:
    print(full, errno.errorcode[e.errno])
PY
expect_eq "config read after the removal: ENODEV" "$(cat "$WORK/gone.out")" "$csize ENODEV"
w $MNT/bus/pci/rescan 1 >/dev/null

# resource: the modelled kernel's layout (CONFIG_PCI_IOV: 13 lines, 17
# for a bridge); an import prints what its source printed.
expect_eq "resource lines: function, bridge" "$(wc -l <$F/resource) $(wc -l <$D/0000:00:01.0/resource)" "13 17"
check "no violations" test "$(violations)" = 0
check "the daemon stops cleanly" stop_daemon
if [ -r /sys/bus/pci/devices ] && ls /sys/bus/pci/devices | grep -q .; then
	rm -f "$SOCK"
	start_daemon --import-sysfs /sys/bus/pci || { echo "Bail out! the import did not start"; exit 1; }
	same=0 total=0
	for d in /sys/bus/pci/devices/*; do
		total=$((total + 1))
		[ "$(wc -l <"$d/resource")" = "$(wc -l <"$D/$(basename "$d")/resource")" ] && same=$((same + 1))
	done
	expect_eq "an import's resource has its source's line count" "$same" "$total"
	check "the import stops cleanly" stop_daemon
fi
finish
