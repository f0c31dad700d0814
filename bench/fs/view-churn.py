#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Add/remove churn against a running devlifed (bench/fs/view-bench.sh).

  view-churn.py MNT SOCK PID CYCLES

Batches of up to 208 functions (bus 00, slots 06..1f, functions 0..7, all
free in the default topology). Half the cycles go through the host
channel: `add` each function, `lspci` looks at each once, `eject` each.
The other half through sysfs: with the functions present as hardware,
`echo 1 > bus/pci/rescan` adds them, `lspci` looks at each once, and
`echo 1 > .../remove` removes each one (the hardware stays for the next
rescan; it is ejected at the end). A cycle is one function added and
removed (the counters of adds and removes are printed too: the set-up of
the sysfs half adds and removes each function once more). Caches are
never dropped.

Prints one JSON object: cycles, seconds, RSS (kB) before, after and its
maximum (sampled after each batch, and VmHWM), and the core's counters.
"""
import json
import os
import socket
import subprocess
import sys
import time

KEYS = "vendor=0x1af4 device=0x1042 class=0x010000 bar1=4K"


def rss(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


class Host:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rw")

    def cmd(self, line):
        self.f.write(line + "\n")
        self.f.flush()
        lines = []
        while True:
            r = self.f.readline()
            if not r:
                raise RuntimeError("host channel closed")
            if r.startswith("ok"):
                return lines
            if r.startswith("error"):
                raise RuntimeError("%s: %s" % (line, r.strip()))
            lines.append(r.rstrip("\n"))

    def stats(self):
        return {k: int(v) for k, v in
                (l.lstrip(". ").split() for l in self.cmd("stats"))}


def write(path):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, b"1")
    finally:
        os.close(fd)


def main():
    mnt, sock, pid, cycles = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    host = Host(sock)
    d = mnt + "/bus/pci/devices"
    slots = ["0000:00:%02x.%d" % (s, f) for s in range(6, 0x20) for f in range(8)]
    lspci = ["lspci", "-A", "linux-sysfs", "-O", "sysfs.path=" + mnt + "/bus/pci"]
    before = rss(pid)
    start_stats = host.stats()
    rmax = before["VmRSS"]
    done = 0
    t0 = time.monotonic()
    # The host channel: add, look, eject.
    while done < cycles // 2:
        fs = slots[:min(len(slots), cycles // 2 - done)]
        for f in fs:
            host.cmd("add %s %s" % (f, KEYS))
        subprocess.run(lspci, stdout=subprocess.DEVNULL, check=True)
        for f in fs:
            host.cmd("eject " + f)
        done += len(fs)
        rmax = max(rmax, rss(pid)["VmRSS"])
    # sysfs: the hardware stays; rescan adds, remove removes.
    fs = slots[:min(len(slots), cycles - done)]
    for f in fs:
        host.cmd("add %s %s" % (f, KEYS))
        write("%s/%s/remove" % (d, f))
    while done < cycles:
        n = min(len(fs), cycles - done)
        write(mnt + "/bus/pci/rescan")
        subprocess.run(lspci, stdout=subprocess.DEVNULL, check=True)
        for f in fs[:n]:
            write("%s/%s/remove" % (d, f))
        done += n
        rmax = max(rmax, rss(pid)["VmRSS"])
    write(mnt + "/bus/pci/rescan")
    for f in fs:
        host.cmd("eject " + f)
    secs = time.monotonic() - t0
    after = rss(pid)
    st = host.stats()
    print(json.dumps({
        "cycles": done,
        "seconds": round(secs, 2),
        "rss_kb_before": before["VmRSS"],
        "rss_kb_after": after["VmRSS"],
        "rss_kb_max": max(rmax, after["VmHWM"]),
        "devices_live": st["devices_live"],
        "devices_allocated": st["devices_allocated"],
        "allocated_minus_live": st["devices_allocated"] - st["devices_live"],
        "adds": st["adds"] - start_stats["adds"],
        "removes": st["removes"] - start_stats["removes"],
    }))


if __name__ == "__main__":
    main()
