# Race scenarios (docs/scenarios.md) from Python, through the `tree`
# fixture: the examples of tests/scenarios/examples against the real
# programs they name, started in the tree's namespace once the
# scenario is armed. The interleaving is the scenario's, never a sleep.
import os
import subprocess

import pytest

import devlife

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "scenarios", "examples")


def example(name):
    with open(os.path.join(EXAMPLES, name + ".scen")) as f:
        text = f.read()
    cmd = [l[len("# command: "):] for l in text.splitlines() if l.startswith("# command: ")]
    assert len(cmd) == 1
    return text, cmd[0]


def run_example(tree, name):
    text, cmd = example(name)
    sc = tree.host.scenario(text, name)
    prog = tree.popen(["sh", "-c", cmd], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
    status, lines = sc.wait()
    prog.wait(timeout=60)
    return status, lines, prog.returncode


def test_eject_while_a_shell_loop_reads(tree):
    status, lines, rc = run_example(tree, "eject-shell-loop")
    assert status == 0, "\n".join(lines)
    assert "result 4 passed, 0 failed" in lines
    assert rc == 0                     # the loop ended once the function went
    assert not tree.present("0000:00:03.0")


def test_bus_relations_while_a_bind_is_in_flight(tree):
    status, lines, rc = run_example(tree, "relations-probe")
    assert status == 0, "\n".join(lines)
    assert "result 3 passed, 0 failed" in lines
    assert rc != 0                     # the bind was refused
    assert not tree.present("0000:01:00.1") and not tree.present("0000:01:00.0")
    assert tree.host.stats()["violations"].strip() == "0"


def test_a_bad_scenario_runs_nothing(tree):
    seq0 = tree.host.last_seq()
    with pytest.raises(devlife.DevlifeError) as e:
        tree.host.scenario("eject 0000:00:03.0\nexpect gone 0000:00:03.0\n", "bad")
    assert e.value.ename == "EINVAL"
    assert e.value.message.startswith("bad:2: expect what?")
    assert tree.present("0000:00:03.0")
    assert all(r.event != "host" for r in tree.host.trace() if r.seq > seq0)
