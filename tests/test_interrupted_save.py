"""Interrupted saves: a process SIGKILLed while saving leaves a target that
loads, holding exactly the old or the new version, and temporary files do
not pile up: the next save of a target removes the ones that dead
processes of this host left for it (`kerasette.saving.atomic`).
"""

import os
import select
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest
from file_fuzz import make_model

import kerasette as keras
from kerasette.saving import atomic

ROUNDS = 20  # kills per run: alternately during .h5 and .keras saves
BUDGET_S = 15.0  # no new round starts after this (but at least MIN_ROUNDS run)
MIN_ROUNDS = 6
MAX_DELAY_S = 0.04  # the kill comes this long at most after the first save (several saves)
SEED = 7

# Saves the two versions in turn, forever; says so after the first save.
SAVER = r"""
import sys
import time

import kerasette as keras
from kerasette.saving import atomic

# A slow disk: each save's bytes go out in small pieces, so that most kills
# land while a temporary file is being written. (Saves build the file in
# memory and write it in one call, which a random kill would rarely catch.)
# Only the speed of the writes changes: names, renames and sweeps are the
# real ones.
class SlowFile:
    def __init__(self, fh):
        self._fh = fh

    def write(self, data):
        view = memoryview(data).cast("B")
        for i in range(0, len(view), 2048):
            self._fh.write(view[i:i + 2048])
            time.sleep(0.0005)
        return len(view)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._fh.__exit__(*exc)


real_open_temp = atomic.open_temp
atomic.open_temp = lambda path: SlowFile(real_open_temp(path))

target, first, second = sys.argv[1:4]
versions = [keras.models.load_model(first), keras.models.load_model(second)]
i = 0
while True:
    versions[i % 2].save(target)
    if i == 0:
        print("saving", flush=True)
    i += 1
"""

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL and fork/exec")


@pytest.fixture
def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("saving is backend-independent; runs once, on the numpy backend")


def _temps(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith(atomic.PREFIX))


def _versions(folder):
    """Two versions of one compiled model, saved as .h5 and .keras; their
    weights in `get_weights()` order."""
    first, second = make_model(), make_model()
    second.set_weights([w + 0.5 for w in first.get_weights()])
    weights = []
    for i, model in enumerate((first, second)):
        for suffix in (".h5", ".keras"):
            model.save(folder / f"v{i}{suffix}")
        weights.append(model.get_weights())
    return weights


def _wait_for_line(proc, timeout):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().strip() if ready else None


def _which_version(path, weights):
    """0 or 1: the version whose weights `path` holds exactly; None if neither."""
    loaded = keras.models.load_model(path).get_weights()
    for i, version in enumerate(weights):
        if len(version) == len(loaded) and all(
                np.array_equal(a, b) for a, b in zip(version, loaded)):
            return i
    return None


def _kill_one_save(refs, folder, suffix, delay):
    """Starts a saver on `folder/model<suffix>`, SIGKILLs it `delay` seconds
    after its first save; returns its pid."""
    target = folder / f"model{suffix}"
    # Same interpreter and environment as the tests: in CI that imports the
    # installed kerasette (PYTHONSAFEPATH=1), locally the source tree.
    proc = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(target), str(refs / f"v0{suffix}"),
         str(refs / f"v1{suffix}")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ, text=True)
    try:
        line = _wait_for_line(proc, timeout=60)
        if line != "saving":
            proc.kill()
            raise AssertionError(f"the saver did not start: {line!r}\n{proc.stderr.read()}")
        time.sleep(delay)
    finally:
        proc.kill()  # SIGKILL: no handler, no cleanup, no flush
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    return proc.pid


def test_killed_saves_leave_a_loadable_file_and_no_pile_of_temporaries(numpy_only, tmp_path):
    refs = tmp_path / "refs"
    refs.mkdir()
    weights = _versions(refs)
    folders = {suffix: tmp_path / suffix[1:] for suffix in (".h5", ".keras")}
    for folder in folders.values():
        folder.mkdir()
    rng = np.random.default_rng(SEED)
    counts = Counter()
    start = time.monotonic()
    for round_ in range(ROUNDS):
        if round_ >= MIN_ROUNDS and time.monotonic() - start > BUDGET_S:
            break
        suffix = (".h5", ".keras")[round_ % 2]
        folder = folders[suffix]
        pid = _kill_one_save(refs, folder, suffix, float(rng.uniform(0, MAX_DELAY_S)))
        counts["kills"] += 1
        version = _which_version(folder / f"model{suffix}", weights)
        assert version is not None, f"round {round_}: model{suffix} holds neither version"
        counts[f"{suffix} v{version}"] += 1
        temps = _temps(folder)
        # At most the one the killed saver was writing: earlier ones were swept.
        assert len(temps) <= 1, (round_, temps)
        for name in temps:
            assert atomic.parse_temp_name(name)[0] == pid, (round_, name, pid)
            assert atomic.parse_temp_name(name)[2] == f"model{suffix}", name
        counts["temporaries left by a kill"] += len(temps)
    counts["seconds"] = round(time.monotonic() - start, 1)
    print(f"\ninterrupted saves: {dict(counts)}")
    assert counts["kills"] >= MIN_ROUNDS
    assert counts["temporaries left by a kill"] >= 1, counts  # kills did land mid-write
    # A save that completes removes what the killed ones left.
    for suffix, folder in folders.items():
        keras.models.load_model(refs / f"v1{suffix}").save(folder / f"model{suffix}")
        assert os.listdir(folder) == [f"model{suffix}"]
        assert _which_version(folder / f"model{suffix}", weights) == 1


# -- the temporary files, one rule at a time -------------------------------------------


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid no longer exists (until reused)
    return proc.pid


def _temp(folder, pid, target, host=None):
    name = f"{atomic.PREFIX}{pid}-{host or atomic._host()}-0a1b2c3d-{target}{atomic.SUFFIX}"
    (folder / name).write_bytes(b"half a file")
    return name


def test_temp_names_are_recognisably_ours():
    name = atomic.temp_name("/some/where/my-model.v2.h5")
    assert atomic.parse_temp_name(name) == (os.getpid(), atomic._host(), "my-model.v2.h5")
    assert name.startswith(".kerasette-") and name.endswith(".tmp")
    assert atomic.parse_temp_name(".kerasette-abc.h5.tmp") is None  # older, unparseable
    assert atomic.parse_temp_name("model.h5") is None
    assert len(atomic.temp_name("x" * 250 + ".h5")) < 255  # fits a file name


def test_next_save_sweeps_only_stale_temporaries_of_its_target(numpy_only, tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _dead_pid()
        stale = _temp(tmp_path, dead, "m.h5")
        kept = [
            _temp(tmp_path, sleeper.pid, "m.h5"),  # a save in progress elsewhere
            _temp(tmp_path, dead, "other.h5"),  # another target
            _temp(tmp_path, dead, "m.h5", host="elsewhere"),  # another host's process
            ".kerasette-x1y2z3.h5.tmp",  # an older name: whose, is unknown
        ]
        (tmp_path / kept[-1]).write_bytes(b"")
        model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        model.save(tmp_path / "m.h5")
        assert stale not in os.listdir(tmp_path)
        assert sorted(os.listdir(tmp_path)) == sorted(kept + ["m.h5"])
        model.save_weights(tmp_path / "other.h5")  # save_weights sweeps too
        assert kept[1] not in os.listdir(tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()
