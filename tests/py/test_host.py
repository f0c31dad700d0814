# Host-channel races from Python, through the `tree` fixture
# (conftest.py): the ordering comes from the trace and from what the
# program printed, never from a sleep.
import os
import subprocess

import devlife

DEV = "0000:00:04.0"
PF = "0000:01:00.0"


def test_eject_while_a_shell_loop_reads_an_attribute(tree):
    seq0 = tree.host.last_seq()
    loop = tree.popen(["sh", "-c",
                       "n=0; while cat /sys/bus/pci/devices/%s/vendor; do n=$((n+1)); "
                       "[ $n -eq 1 ] && echo first-done; done; echo reads=$n; exit 3" % DEV],
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = loop.stdout.readline().strip()
    assert first.startswith("0x")          # the loop is reading
    # A cat prints its text, then reads again to find the end: wait until
    # the first one has ended, or an eject in between makes it fail.
    assert loop.stdout.readline().strip() == "first-done"
    tree.host.eject(DEV)                   # returns once the removal is done
    dead = tree.host.wait_for_event("dead", DEV, after=seq0)
    start = tree.host.wait_for_event("remove-start", DEV, after=seq0)
    assert start.seq < dead.seq
    out, _ = loop.communicate(timeout=60)  # the loop ends by itself
    lines = [first] + out.split()
    assert loop.returncode == 3
    assert lines[-1].startswith("reads=") and int(lines[-1][6:]) >= 1
    assert all(l == first for l in lines[:-1])   # never a torn or foreign value
    assert not tree.present(DEV)
    assert tree.host.stats()["violations"].strip() == "0"


def test_surprise_removal_of_a_pf_with_vfs(tree):
    tree.numvfs(PF, 4)
    links = ["virtfn%d" % i for i in range(4)]
    names = [os.path.basename(os.readlink(tree.sys("bus/pci/devices/%s/%s" % (PF, l))))
             for l in links]
    assert len(set(names)) == 4 and all(tree.present(n) for n in names)
    seq0 = tree.host.last_seq()
    tree.host.surprise(PF)
    pf_dead = tree.host.wait_for_event("dead", PF, after=seq0)
    for n in names:
        d = tree.host.wait_for_event("dead", n, after=seq0)
        assert d.seq < pf_dead.seq        # each VF was gone before its PF
        assert not tree.present(n)
    assert not tree.present(PF)
    r = tree.run(["lspci"], stdout=subprocess.PIPE, text=True)
    listed = {l.split()[0] for l in r.stdout.splitlines()}
    assert r.returncode == 0 and "01:00.1" in listed   # the other function stays
    assert not listed & {n[5:] for n in names + [PF]}
    assert tree.host.stats()["violations"].strip() == "0"


def test_a_refused_request_raises(tree):
    try:
        tree.host.eject("0000:7f:00.0")
    except devlife.DevlifeError as e:
        assert e.ename.startswith("E")
    else:
        raise AssertionError("an eject of a missing function succeeded")
