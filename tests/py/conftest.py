# The `tree` fixture: a devlife tree under devlife-run (the default
# topology), with its host channel; stopped after the test, which fails
# if devlife-run did not end cleanly. Needs root (the namespace is
# entered with nsenter; /sys is reached through /proc/PID/root).
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import devlife  # noqa: E402


@pytest.fixture
def tree(tmp_path):
    run = os.environ.get("DEVLIFE_RUN")
    if not run:
        pytest.skip("DEVLIFE_RUN is not set")
    if os.geteuid() != 0:
        pytest.skip("needs root (nsenter into the tree's namespace)")
    t = devlife.Tree.start(run, tmp_path)
    try:
        yield t
    finally:
        status = t.stop()
    assert status == 0, "devlife-run exited %s" % status
