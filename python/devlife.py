# SPDX-License-Identifier: LGPL-2.1-or-later
"""devlife from Python: the host channel, and a tree under devlife-run.

Standard library only. The host channel (docs/host-protocol.md) is one
request line per connection; a reply is data lines (". TEXT"), then "ok"
or "error ENAME message".

    from devlife import HostChannel, Tree
    with Tree.start("build/tools/devlife-run") as t:
        t.numvfs("0000:01:00.0", 4)
        t.host.eject("0000:01:00.0")
        t.host.wait_for_event("dead", "0000:01:00.0")
        t.run(["lspci"])            # inside the tree's mount namespace
        sc = t.host.scenario(open("x.scen").read())   # armed (docs/scenarios.md)
        p = t.popen(["lspci", "-vv"])
        status, report = sc.wait()  # 0: every assertion passed

A pytest fixture built on Tree is in tests/py/conftest.py.
"""
import os
import select
import socket
import subprocess
import time


class DevlifeError(Exception):
    """The daemon refused a request: .ename ("EBUSY"), .message."""

    def __init__(self, ename, message):
        super().__init__("%s %s" % (ename, message))
        self.ename = ename
        self.message = message


class Record:
    """One trace record: seq, ts_ns, event, name, arg."""

    __slots__ = ("seq", "ts_ns", "event", "name", "arg")

    def __init__(self, line):
        w = line.split()
        if len(w) != 5 or not w[0].isdigit():
            raise ValueError("not a trace record: %r" % line)
        self.seq, self.ts_ns = int(w[0]), int(w[1])
        self.event, self.name, self.arg = w[2], w[3], int(w[4])

    def __repr__(self):
        return "Record(%d %s %s %d)" % (self.seq, self.event, self.name, self.arg)


def _check_word(a):
    a = str(a)
    if not a or any(c in a for c in " \t\r\n"):
        raise ValueError("argument %r is empty or contains white space" % a)
    return a


class HostChannel:
    """A client of devlifed's host channel at @path."""

    def __init__(self, path, timeout=30.0):
        self.path = path
        self.timeout = timeout

    def _connect(self, timeout):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.path)
        return s

    def request(self, cmd, *args):
        """Send CMD ARGS...; return the reply's data lines, or raise
        DevlifeError for "error ENAME message"."""
        line = " ".join(_check_word(a) for a in (cmd,) + args) + "\n"
        with self._connect(self.timeout) as s:
            s.sendall(line.encode())
            f = s.makefile("r", encoding="utf-8", errors="replace")
            data = []
            for ln in f:
                ln = ln.rstrip("\n")
                if ln == "ok":
                    return data
                if ln.startswith("error "):
                    ename, _, msg = ln[6:].partition(" ")
                    raise DevlifeError(ename, msg)
                if ln == "." or ln.startswith(". "):
                    data.append(ln[2:])
                else:
                    raise DevlifeError("EPROTO", "unexpected line %r" % ln)
        raise DevlifeError("EPIPE", "devlifed closed the connection before the reply ended")

    def eject(self, dbdf):
        return self.request("eject", dbdf)

    def surprise(self, dbdf):
        return self.request("surprise", dbdf)

    def add(self, dbdf, **keys):
        return self.request("add", dbdf, *("%s=%s" % kv for kv in keys.items()))

    def relations(self, bus, *present):
        return self.request("relations", bus, *present)

    def error(self, dbdf):
        return self.request("error", dbdf)

    def scenario(self, text, name="scenario", timeout=30.0):
        """Load the scenario TEXT (docs/scenarios.md) and return once
        every rule is armed: a Scenario, whose wait() gives the verdicts.
        A bad file raises DevlifeError ("EINVAL", "NAME:LINE: message")
        and runs nothing."""
        if any(c in name for c in " \t\r\n\\"):
            raise ValueError("name %r contains white space or a backslash" % name)
        body = text.replace("\\", "\\\\").replace("\n", "\\n")
        s = self._connect(timeout)
        try:
            s.sendall(("scenario %s %s\n" % (name, body)).encode())
            f = s.makefile("r", encoding="utf-8", errors="replace")
            lines = []
            for ln in f:
                ln = ln.rstrip("\n")
                if ln.startswith("error "):
                    ename, _, msg = ln[6:].partition(" ")
                    raise DevlifeError(ename, msg)
                if ln.startswith(". "):
                    lines.append(ln[2:])
                    if ln.startswith(". loaded "):
                        return Scenario(s, f, lines)
            raise DevlifeError("EPIPE", "devlifed closed the connection before the scenario loaded")
        except BaseException:
            s.close()
            raise

    def stats(self):
        return dict(l.split(None, 1) for l in self.request("stats") if l.strip())

    def trace(self):
        """The trace ring, oldest first, as Records."""
        out = []
        for l in self.request("trace"):
            try:
                out.append(Record(l))
            except ValueError:
                pass
        return out

    def last_seq(self):
        t = self.trace()
        return t[-1].seq if t else 0

    def wait_for_event(self, event, name, after=0, timeout=30.0):
        """The first record EVENT of device NAME with seq > AFTER: from
        the trace's backlog, else as it happens (`trace follow`). Raises
        TimeoutError when none came within TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        with self._connect(timeout) as s:
            s.sendall(b"trace follow\n")
            buf = b""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([s], [], [], left)
                if not r:
                    break
                chunk = s.recv(65536)
                if not chunk:
                    raise DevlifeError("EPIPE", "devlifed closed the trace stream")
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for l in lines:
                    l = l.decode(errors="replace")
                    if not l.startswith(". "):
                        continue
                    try:
                        rec = Record(l[2:])
                    except ValueError:
                        continue
                    if rec.seq > after and rec.event == event and rec.name == name:
                        return rec
        raise TimeoutError("no %s of %s after seq %d within %.1fs" % (event, name, after, timeout))


class Scenario:
    """A scenario running in devlifed, every rule armed
    (HostChannel.scenario()). wait() reads its report to the end."""

    def __init__(self, sock, f, lines):
        self._sock = sock
        self._f = f
        self.lines = lines

    def wait(self, timeout=120.0):
        """The report to its end: (status, lines). status 0: every
        assertion passed; 1: one failed (the lines say which)."""
        self._sock.settimeout(timeout)
        try:
            for ln in self._f:
                ln = ln.rstrip("\n")
                if ln == "ok":
                    break
                if ln.startswith("error "):
                    ename, _, msg = ln[6:].partition(" ")
                    raise DevlifeError(ename, msg)
                if ln.startswith(". "):
                    self.lines.append(ln[2:])
            else:
                raise DevlifeError("EPIPE", "devlifed closed the connection before the scenario's end")
        finally:
            self._f.close()
            self._sock.close()
        failed = [l for l in self.lines if l.startswith("result ")]
        status = 0 if failed and failed[-1].endswith(" 0 failed") else 1
        return status, self.lines

    def verdicts(self):
        """The pass/FAIL lines so far."""
        return [l for l in self.lines if l.startswith(("pass ", "FAIL "))]


class Tree:
    """A devlife tree under devlife-run: its daemon, its mount namespace
    (kept by a shell that waits on its standard input), its host channel.
    Start with Tree.start(); stop() (or leaving a with block) ends it."""

    def __init__(self, proc, pid, sock):
        self.proc = proc
        self.pid = pid
        self.host = HostChannel(sock)

    @classmethod
    def start(cls, devlife_run, workdir, daemon_args=(), timeout=60.0):
        sock = os.path.join(str(workdir), "host.sock")
        proc = subprocess.Popen(
            [devlife_run, "-s", sock, *daemon_args, "--",
             "sh", "-c", "echo $DEVLIFE_NS_PID; exec cat >/dev/null"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = proc.stdout.readline()
        if not line.strip().isdigit():
            proc.kill()
            proc.wait()
            raise RuntimeError("devlife-run did not start (status %s)" % proc.returncode)
        t = cls(proc, int(line), sock)
        deadline = time.monotonic() + timeout
        while True:
            try:
                t.host.request("stats")
                return t
            except OSError:
                if time.monotonic() > deadline:
                    t.stop()
                    raise
                time.sleep(0.05)

    def sys(self, path):
        """PATH under the namespace's /sys, reachable from outside
        (through /proc/PID/root)."""
        return "/proc/%d/root/sys/%s" % (self.pid, path.lstrip("/"))

    def read(self, path):
        with open(self.sys(path)) as f:
            return f.read()

    def write(self, path, text):
        with open(self.sys(path), "w") as f:
            f.write(text)

    def numvfs(self, dbdf, n):
        """Write N to the function's sriov_numvfs (returns once the
        store has returned, as an `echo N >` would)."""
        self.write("bus/pci/devices/%s/sriov_numvfs" % dbdf, "%d\n" % n)

    def present(self, dbdf):
        return os.path.exists(self.sys("bus/pci/devices/" + dbdf))

    def popen(self, argv, **kw):
        """Start ARGV inside the namespace (it sees the tree at /sys)."""
        return subprocess.Popen(["nsenter", "-t", str(self.pid), "-m", "--", *argv], **kw)

    def run(self, argv, **kw):
        return subprocess.run(["nsenter", "-t", str(self.pid), "-m", "--", *argv], **kw)

    def stop(self, timeout=60.0):
        """End the shell; devlife-run stops the daemon and unmounts.
        Returns devlife-run's status."""
        if self.proc.stdin:
            self.proc.stdin.close()
            self.proc.stdin = None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            return self.proc.wait(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
