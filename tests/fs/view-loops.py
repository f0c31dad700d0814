#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Sequential loops of tree-changing operations against a devlifed mount,
each checked by a separate process right after the operation returns.

  view-loops.py MNT SOCK DEVLIFECTL ITERATIONS KIND...

On Linux a sysfs write that adds or removes devices has finished, and its
files are present or gone for every process, when write(2) returns. Here
the writer (this process) performs one operation, and as soon as it
returns asks the checker (a child process of its own, never touching the
files before) whether the paths that must now resolve do and the paths
that must be gone give ENOENT. One line per kind:

  KIND ITERATIONS MISMATCHES [first mismatch]

Kinds (the default topology of devlifed): remove, remove-bridge,
sriov, bind, driver-override, mdev, host-add-eject, host-surprise,
host-relations.
"""
import errno
import os
import subprocess
import sys
import uuid

# --------------------------------------------------------------------
# The checker: a separate process. It answers one line per request.


def checker():
    out = sys.stdout
    for line in sys.stdin:
        op, _, arg = line.rstrip("\n").partition(" ")
        try:
            if op == "E":  # the path resolves (through its links)
                os.stat(arg)
                res = "ok"
            elif op == "N":  # the path is gone: ENOENT
                try:
                    os.lstat(arg)
                    res = "still there"
                except OSError as e:
                    res = "ok" if e.errno == errno.ENOENT else os.strerror(e.errno)
            elif op == "L" or op == "U":  # listed / not listed
                d, _, name = arg.rpartition("/")
                listed = name in os.listdir(d)
                res = "ok" if listed == (op == "L") else (
                    "not listed" if op == "L" else "still listed")
            elif op == "C":  # contents
                path, _, want = arg.partition(" ")
                with open(path, "rb") as f:
                    got = f.read()
                want = want.encode().decode("unicode_escape").encode()
                res = "ok" if got == want else "reads %r" % got
            else:
                res = "bad request"
        except OSError as e:
            res = os.strerror(e.errno)
        out.write(res + "\n")
        out.flush()


# --------------------------------------------------------------------
# The writer.


class Run:
    def __init__(self, mnt, sock, ctl):
        self.mnt = mnt
        self.sock = sock
        self.ctl = ctl
        self.d = mnt + "/bus/pci/devices"
        self.chk = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--checker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            bufsize=1)
        self.mismatches = 0
        self.first = None

    def ask(self, op, arg, what):
        self.chk.stdin.write("%s %s\n" % (op, arg))
        self.chk.stdin.flush()
        res = self.chk.stdout.readline().strip()
        if res != "ok":
            self.mismatches += 1
            if not self.first:
                self.first = "after %s: %s %s: %s" % (what, op, arg, res)

    def write(self, path, data):
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, data.encode() if isinstance(data, str) else data)
        finally:
            os.close(fd)

    def ctl_ok(self, *args):
        r = subprocess.run([self.ctl, "-s", self.sock] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if r.returncode != 0:
            raise RuntimeError("devlifectl %s: %s" % (" ".join(args),
                                                     r.stdout.strip()))

    def present(self, dbdf, what, parent="devices/pci0000:00"):
        self.ask("E", "%s/%s/vendor" % (self.d, dbdf), what)
        self.ask("E", "%s/%s/%s/config" % (self.mnt, parent, dbdf), what)
        self.ask("L", "%s/%s" % (self.d, dbdf), what)

    def absent(self, dbdf, what, parent="devices/pci0000:00"):
        self.ask("N", "%s/%s" % (self.d, dbdf), what)
        self.ask("N", "%s/%s/%s" % (self.mnt, parent, dbdf), what)
        self.ask("U", "%s/%s" % (self.d, dbdf), what)

    # One iteration of each kind; each leaves the tree as it found it.

    def k_remove(self):
        f = "0000:00:03.0"
        self.write("%s/%s/remove" % (self.d, f), "1")
        self.absent(f, "remove")
        self.ask("N", "%s/bus/pci/drivers/virtio-pci/%s" % (self.mnt, f),
                 "remove")
        self.write(self.mnt + "/bus/pci/rescan", "1")
        self.present(f, "rescan")
        self.ask("E", "%s/bus/pci/drivers/virtio-pci/%s" % (self.mnt, f),
                 "rescan")

    def k_remove_bridge(self):
        port = "0000:00:01.0"
        below = "devices/pci0000:00/" + port
        self.write("%s/%s/remove" % (self.d, port), "1")
        self.absent(port, "remove of the port")
        for f in ("0000:01:00.0", "0000:01:00.1"):
            self.absent(f, "remove of the port", below)
        self.write("%s/%s/rescan" % (self.d, "0000:00:00.0"), "1")
        self.present(port, "rescan")
        for f in ("0000:01:00.0", "0000:01:00.1"):
            self.present(f, "rescan", below)

    def vf_names(self):
        pf = self.d + "/0000:01:00.0"
        self.write(pf + "/sriov_numvfs", "4")
        names = [os.path.basename(os.readlink("%s/virtfn%d" % (pf, i)))
                 for i in range(4)]
        self.write(pf + "/sriov_numvfs", "0")
        return names

    def k_sriov(self):
        pf = self.d + "/0000:01:00.0"
        below = "devices/pci0000:00/0000:00:01.0"
        self.write(pf + "/sriov_numvfs", "4")
        for i, vf in enumerate(self.vfs):
            self.present(vf, "sriov_numvfs 4", below)
            self.ask("E", "%s/virtfn%d/vendor" % (pf, i), "sriov_numvfs 4")
        # A refused store changes nothing: 4 -> 2 is EBUSY, the VFs stay.
        try:
            self.write(pf + "/sriov_numvfs", "2")
            self.mismatches += 1
            self.first = self.first or "sriov_numvfs 4 -> 2 succeeded"
        except OSError:
            pass
        for i, vf in enumerate(self.vfs):
            self.ask("E", "%s/virtfn%d/vendor" % (pf, i), "refused store")
        self.write(pf + "/sriov_numvfs", "0")
        for i, vf in enumerate(self.vfs):
            self.absent(vf, "sriov_numvfs 0", below)
            self.ask("N", "%s/virtfn%d" % (pf, i), "sriov_numvfs 0")

    def k_bind(self):
        f = "0000:00:03.0"
        drv = self.mnt + "/bus/pci/drivers/virtio-pci"
        self.write(drv + "/unbind", f)
        self.ask("N", "%s/%s" % (drv, f), "unbind")
        self.ask("N", "%s/%s/driver" % (self.d, f), "unbind")
        self.ask("U", "%s/%s" % (drv, f), "unbind")
        self.write(drv + "/bind", f)
        self.ask("E", "%s/%s/driver/bind" % (self.d, f), "bind")
        self.ask("E", "%s/%s/vendor" % (drv, f), "bind")
        self.ask("L", "%s/%s" % (drv, f), "bind")

    def k_driver_override(self):
        f = self.d + "/0000:00:05.0/driver_override"
        self.write(f, "pci-stub\n")
        self.ask("C", f + " pci-stub\\n", "driver_override pci-stub")
        self.write(f, "\n")
        self.ask("C", f + " (null)\\n", "driver_override cleared")

    def k_mdev(self):
        parent = self.mnt + "/devices/pci0000:00/0000:00:02.0"
        t = parent + "/mdev_supported_types/" + self.mtype
        u = str(uuid.uuid4())
        bus = self.mnt + "/bus/mdev/devices"
        self.write(t + "/create", u)
        self.ask("E", "%s/%s/remove" % (bus, u), "mdev create")
        self.ask("E", "%s/%s/remove" % (parent, u), "mdev create")
        self.ask("L", "%s/%s" % (bus, u), "mdev create")
        self.ask("E", "%s/devices/%s" % (t, u), "mdev create")
        self.write("%s/%s/remove" % (bus, u), "1")
        self.ask("N", "%s/%s" % (bus, u), "mdev remove")
        self.ask("N", "%s/%s" % (parent, u), "mdev remove")
        self.ask("U", "%s/%s" % (bus, u), "mdev remove")
        self.ask("N", "%s/devices/%s" % (t, u), "mdev remove")

    NEW = "0000:00:06.0"
    NEW_KEYS = ["vendor=0x1af4", "device=0x1042", "class=0x010000", "bar1=4K"]

    def k_host_add_eject(self):
        self.ctl_ok("add", self.NEW, *self.NEW_KEYS)
        self.present(self.NEW, "devlifectl add")
        self.ctl_ok("eject", self.NEW)
        self.absent(self.NEW, "devlifectl eject")

    def k_host_surprise(self):
        self.ctl_ok("add", self.NEW, *self.NEW_KEYS)
        self.present(self.NEW, "devlifectl add")
        self.ctl_ok("surprise", self.NEW)
        self.absent(self.NEW, "devlifectl surprise")

    def k_host_relations(self):
        self.ctl_ok("add", self.NEW, *self.NEW_KEYS)
        self.present(self.NEW, "devlifectl add")
        keep = [n for n in sorted(os.listdir(self.d))
                if n.startswith("0000:00:") and n != self.NEW]
        self.ctl_ok("relations", "0000:00", *keep)
        self.absent(self.NEW, "devlifectl relations")

    def run(self, kind, n):
        fn = getattr(self, "k_" + kind.replace("-", "_"))
        self.mismatches = 0
        self.first = None
        if kind == "sriov":
            self.vfs = self.vf_names()
        if kind == "mdev":
            types = self.mnt + "/devices/pci0000:00/0000:00:02.0/mdev_supported_types"
            self.mtype = sorted(os.listdir(types))[-1]
        for i in range(n):
            try:
                fn()
            except OSError as e:
                # An operation on a path that must resolve failed: the
                # writer itself met a stale entry. Count it, put the tree
                # back and go on.
                self.mismatches += 1
                if not self.first:
                    self.first = "iteration %d: %s" % (i, e)
                self.restore()
        return self.mismatches, self.first

    def restore(self):
        for path, data in ((self.mnt + "/bus/pci/rescan", "1"),
                           (self.d + "/0000:01:00.0/sriov_numvfs", "0")):
            try:
                self.write(path, data)
            except OSError:
                pass


def main():
    if sys.argv[1:2] == ["--checker"]:
        checker()
        return 0
    mnt, sock, ctl, n = sys.argv[1:5]
    run = Run(mnt, sock, ctl)
    rc = 0
    for kind in sys.argv[5:]:
        try:
            bad, first = run.run(kind, int(n))
            print("%s %s %d%s" % (kind, n, bad, " " + first if first else ""),
                  flush=True)
        except (OSError, RuntimeError) as e:
            print("%s %s error %s" % (kind, n, e), flush=True)
            rc = 1
    run.chk.stdin.close()
    run.chk.wait()
    return rc


if __name__ == "__main__":
    sys.exit(main())
