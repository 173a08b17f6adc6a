"""Damaged model files: loading either gives a usable model or raises
`ModelFileError` naming the file. Never another exception, a crash, a
hang or a runaway allocation.

The loads run in a child process (`file_fuzz.py`) under a memory cap and a
per-load deadline, so that a segfault or a hang in the HDF5 library fails
the test instead of killing or blocking pytest.

* `test_fuzzed_files_load_or_fail_cleanly` damages good files at random
  (a fixed seed, a bounded number of cases and seconds): bit flips,
  truncations, zeroed and random blocks, also inside the members of a
  `.keras` archive, and values of the JSON config replaced.
* `test_hdf5_traps_are_refused` replays, one by one, the kinds of damage
  that the fuzzer found hanging HDF5, making it allocate gigabytes, or
  escaping as another exception type.
* The last tests cover damaged optimizer step counters, which must not
  stop a model from loading.

`KERASETTE_FUZZ_CASES` and `KERASETTE_FUZZ_SEED` change the fuzz run;
`KERASETTE_FUZZ_REPORT` names a JSON file that receives its counts.
"""

import io
import json
import logging
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest
from file_fuzz import FILES, MODEL_FILE_ERROR, OK, make_model, rezip, write_good_files

import kerasette as keras

FUZZER = Path(__file__).with_name("file_fuzz.py")
CASES = int(os.environ.get("KERASETTE_FUZZ_CASES", "300"))
SEED = int(os.environ.get("KERASETTE_FUZZ_SEED", "7"))
BUDGET_S = 20.0  # the fuzz loop stops starting cases after this
MIN_CASES = 50  # fewer than this in the budget means the run proved little


@pytest.fixture
def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("file damage is backend-independent; runs once, on the numpy backend")


# -- running the child ---------------------------------------------------------------


def _run_child(folder, report, *args, timeout):
    """Runs file_fuzz.py; returns (records, None) or (records, what went wrong).

    The child imports kerasette the way this process does: same interpreter
    and environment (PYTHONSAFEPATH=1 against an installed copy in CI,
    PYTHONPATH=. on a source tree)."""
    # -X faulthandler: a segfault prints the Python stack of the crashing load.
    cmd = [sys.executable, "-X", "faulthandler", str(FUZZER), str(folder), str(report),
           *map(str, args)]
    try:
        proc = subprocess.run(cmd, env=os.environ, capture_output=True, text=True,
                              timeout=timeout, check=False)
        trouble = None
        if proc.returncode < 0:
            name = signal.Signals(-proc.returncode).name
            trouble = f"the child died by {name}:\n{proc.stderr[-3000:]}"
        elif proc.returncode and "Timeout (" in proc.stderr:  # file_fuzz.CASE_SECONDS
            trouble = f"a load hung:\n{proc.stderr[-3000:]}"
        elif proc.returncode:
            trouble = f"the child exited with {proc.returncode}:\n{proc.stderr[-3000:]}"
    except subprocess.TimeoutExpired:
        trouble = f"the child did not finish in {timeout} s (a hang)"
    records = []
    if report.exists():
        for line in report.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                pass  # the last line, cut short by a crash
    if trouble:
        started = [r for r in records if "start" in r]
        last = started[-1] if started else None
        replay = " ".join(cmd)
        if last and isinstance(last["start"], int):
            replay += f" --only {last['start']}"
        trouble += f"; last load started: {last}. Replay: {replay}"
    return records, trouble


def _loads(records):
    return [r for r in records if "outcome" in r]


def _bad(records):
    return [r for r in _loads(records) if r["outcome"] not in (OK, MODEL_FILE_ERROR)]


# -- the fuzz run ----------------------------------------------------------------------


def _summary(records, seconds):
    loads = _loads(records)
    outcomes = Counter(r["outcome"] for r in loads)
    return {
        "seed": SEED,
        "cases": len({r["case"] for r in loads}),
        "loads": len(loads),
        "loaded": outcomes[OK],
        "model_file_error": outcomes[MODEL_FILE_ERROR],
        "other": len(loads) - outcomes[OK] - outcomes[MODEL_FILE_ERROR],
        "crashes": 0,  # a crash or a hang fails the test before this is computed
        "seconds": round(seconds, 2),
        "loads_per_file": {name: dict(Counter(r["outcome"] for r in loads if r["file"] == name))
                           for name in FILES},
        "loads_per_kind": dict(Counter(r["kind"] for r in loads)),
    }


def test_fuzzed_files_load_or_fail_cleanly(numpy_only, tmp_path):
    report = tmp_path / "report.jsonl"
    records, trouble = _run_child(tmp_path, report, "--cases", CASES, "--seed", SEED,
                                  "--budget", BUDGET_S, timeout=BUDGET_S + 60)
    assert trouble is None, trouble
    done = records[-1]
    summary = _summary(records, done["seconds"])
    print(f"\nfile fuzz: {json.dumps(summary)}")
    if os.environ.get("KERASETTE_FUZZ_REPORT"):
        Path(os.environ["KERASETTE_FUZZ_REPORT"]).write_text(json.dumps(summary, indent=1))
    bad = _bad(records)
    assert not bad, (f"{len(bad)} loads broke the rules (damaged files kept in "
                     f"{tmp_path / 'failures'}):\n" + "\n".join(map(json.dumps, bad[:10])))
    assert summary["cases"] >= min(CASES, MIN_CASES), summary
    assert summary["loaded"] and summary["model_file_error"], summary  # both paths ran
    assert done["max_rss_growth"] < 512 << 20, done


# -- the traps the fuzzer found, replayed ----------------------------------------------


def _heap_objects(data, at):
    """{index: (data offset, size)} of the global heap collection at `at` of
    a good file (8-byte lengths, as h5py writes them)."""
    objects, p = {}, at + 16
    while p + 16 <= len(data):
        index = int.from_bytes(data[p:p + 2], "little")
        size = int.from_bytes(data[p + 8:p + 16], "little")
        if index == 0:
            break
        objects[index] = (p + 16, size)
        p += 16 + (size + 7) // 8 * 8
    return objects


def zeroed_global_heap(data):
    """The first object header of the global heap (where variable-length
    strings live) zeroed: HDF5's heap parser then never advances."""
    at = data.index(b"GCOL")
    return data[:at + 16] + bytes(16) + data[at + 32:]


def free_list_cycle(data):
    """Every local heap (link names of groups) given a free list whose first
    block points to itself: HDF5 follows the list forever."""
    buf = bytearray(data)
    at = data.find(b"HEAP")
    while at != -1:
        size = int.from_bytes(data[at + 8:at + 16], "little")
        start = int.from_bytes(data[at + 24:at + 32], "little")
        if buf[at + 4] == 0 and size >= 24:
            buf[at + 16:at + 24] = (8).to_bytes(8, "little")  # the head: offset 8
            buf[start + 8:start + 24] = (8).to_bytes(8, "little") + (16).to_bytes(8, "little")
        at = data.find(b"HEAP", at + 1)
    return bytes(buf)


def string_longer_than_its_heap_object(data):
    """The stored length of the string "dense_in" in `layer_names` (kept in
    the attribute, next to the string's heap address) set to 512 MiB: HDF5
    allocates and clears that much before it reads the heap."""
    at = data.index(b"GCOL")
    for index, (start, size) in _heap_objects(data, at).items():
        if data[start:start + size] != b"dense_in":
            continue
        descriptor = size.to_bytes(4, "little") + at.to_bytes(8, "little") + \
            index.to_bytes(4, "little")
        hit = data.index(descriptor)
        return data[:hit] + (512 << 20).to_bytes(4, "little") + data[hit + 4:]
    raise AssertionError("no string 'dense_in' in the global heap")


def _huge_dataset(group, name):
    """Replaces dataset `name` by one that declares 4 GiB and stores nothing."""
    del group[name]
    group.create_dataset(name, shape=(1 << 16, 1 << 14), dtype="float32", chunks=(256, 1024))


def huge_optimizer_dataset(path):
    with h5py.File(path, "r+") as f:
        group = f["optimizer_weights"]
        _huge_dataset(group, "Adam/m/dense_in/kernel:0")


def _edit_weights_member(data, edit):
    def apply(name, payload):
        if name != "model.weights.h5":
            return payload
        buf = io.BytesIO(payload)
        with h5py.File(buf, "r+") as f:
            edit(f)
        return buf.getvalue()

    return rezip(data, apply)


def huge_optimizer_variable_in_keras(data):
    return _edit_weights_member(data, lambda f: _huge_dataset(f["optimizer/vars"], "2"))


def member_size_beyond_the_archive(data):
    """config.json's sizes in the central directory set to ~4 GiB: zipfile
    would ask for a 2 GiB read buffer."""
    buf = bytearray(data)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + name_len] == b"config.json":
            buf[at + 20:at + 28] = (0xFFFFFF00).to_bytes(4, "little") * 2
        at = data.find(b"PK\x01\x02", at + 1)
    return bytes(buf)


# case: (good file, edit, {loader: words its ModelFileError holds, or None: loads}).
# load_weights reads no optimizer state and no config.json, so it loads those.
TRAPS = {
    "zeroed_global_heap": (
        "model.h5", zeroed_global_heap,
        {"load_model": "global heap", "load_weights": "global heap"}),
    "free_list_cycle": (
        "weights.h5", free_list_cycle,
        {"load_model": "free list", "load_weights": "free list"}),
    "string_longer_than_its_heap_object": (
        "model.h5", string_longer_than_its_heap_object,
        {"load_model": "heap object", "load_weights": "heap object"}),
    "huge_optimizer_dataset": (
        "model.h5", huge_optimizer_dataset,
        {"load_model": "more than the model", "load_weights": None}),
    "huge_optimizer_variable_in_keras": (
        "model.keras", huge_optimizer_variable_in_keras,
        {"load_model": "more than the model"}),
    "member_size_beyond_the_archive": (
        "model.keras", member_size_beyond_the_archive,
        {"load_model": "member config.json declares"}),
}


def _make_trap(folder, good, case):
    name, edit, _ = TRAPS[case]
    path = folder / f"{case}__{name}"
    if edit is huge_optimizer_dataset:  # edits a copy on disk, with h5py
        path.write_bytes(good[name])
        edit(path)
    else:
        path.write_bytes(edit(good[name]))
    return path


def test_hdf5_traps_are_refused(numpy_only, tmp_path):
    good = write_good_files(make_model(), tmp_path)
    paths = [_make_trap(tmp_path, good, case) for case in TRAPS]
    child = tmp_path / "child"
    child.mkdir()
    records, trouble = _run_child(child, tmp_path / "report.jsonl", "--check", *paths,
                                  timeout=120)
    assert trouble is None, trouble
    loads = _loads(records)
    assert len(loads) == sum(len(expected) for _, _, expected in TRAPS.values())
    for record in loads:
        case = Path(record["file"]).name.split("__")[0]
        words = TRAPS[case][2][record["loader"]]
        if words is None:
            assert record["outcome"] == OK, (case, record)
        else:
            assert record["outcome"] == MODEL_FILE_ERROR, (case, record)
            assert words in record["message"], (case, record)


# -- damaged step counters: the model still loads ------------------------------------


def test_damaged_step_counter_in_h5_loads_without_it(numpy_only, tmp_path, caplog):
    model = make_model()
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:
        group = f["optimizer_weights"]
        del group["iteration:0"]
        group.create_dataset("iteration:0", data=np.float64("nan"))
    with caplog.at_level(logging.WARNING, logger="kerasette"):
        loaded = keras.models.load_model(path)
    assert "no valid step count" in caplog.text
    assert int(loaded.optimizer.iterations.numpy()) == 0
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_step_counter_out_of_range_in_keras_loads_without_it(numpy_only, tmp_path):
    model = make_model()
    path = tmp_path / "m.keras"
    model.save(path)

    def overflow(f):
        del f["optimizer/vars/0"]
        f["optimizer/vars"].create_dataset("0", data=np.uint64(2 ** 63 + 5))

    path.write_bytes(_edit_weights_member(path.read_bytes(), overflow))
    with pytest.warns(UserWarning, match="out of range"):
        loaded = keras.models.load_model(path)
    assert int(loaded.optimizer.iterations.numpy()) == 0
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unreadable_file_is_a_model_file_error(numpy_only, tmp_path, monkeypatch):
    from kerasette.saving import api

    path = tmp_path / "m.h5"
    path.write_bytes(b"")

    def denied(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(api, "_file_kind", denied)
    with pytest.raises(keras.saving.ModelFileError, match="Permission denied") as info:
        keras.models.load_model(path)
    assert info.value.path == str(path)
