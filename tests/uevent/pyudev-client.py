#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""pyudev (Debian's python3-pyudev) as its users use it: list the PCI
devices, then monitor pci events on udev's group. Prints "enum SYSNAME",
"ready" once listening, then "ACTION SYSNAME SEQNUM" per event until
COUNT came (exit 0) or 10 s passed without one (exit 1)."""
import sys

import pyudev

want = int(sys.argv[1]) if len(sys.argv) > 1 else 1
ctx = pyudev.Context()
for d in ctx.list_devices(subsystem="pci"):
    print("enum %s" % d.sys_name, flush=True)
mon = pyudev.Monitor.from_netlink(ctx)  # udev's group, as by default
mon.filter_by(subsystem="pci")
mon.start()
print("ready", flush=True)
while want > 0:
    d = mon.poll(timeout=10)
    if d is None:
        print("timeout", flush=True)
        sys.exit(1)
    print("%s %s %d" % (d.action, d.sys_name, d.sequence_number), flush=True)
    want -= 1
