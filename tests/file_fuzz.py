"""The file fuzzer behind `test_fuzz_files.py`: damages saved model files
and checks what the loaders make of them.

Run as a script it is a child process of the test, so that a segfault, a
hang or a runaway allocation (in the HDF5 library or in kerasette) kills
the child and not pytest:

    python tests/file_fuzz.py FOLDER REPORT.jsonl --cases 300 --seed 7 --budget 20
    python tests/file_fuzz.py FOLDER REPORT.jsonl --seed 7 --only 156   # replay one case
    python tests/file_fuzz.py FOLDER REPORT.jsonl --check F1 F2 ...     # load given files

It writes the good files into FOLDER, then for each case damages one of
them (bit flips, a truncation, a zeroed or a random block; for `.keras`
half of the time the same inside one archive member, with the zip rebuilt
so the damage gets past the CRC checks to the member's reader; for model
files also one value of the JSON config replaced by a value of another
type or range) and loads the result with every loader that accepts that
kind of file. Each load is
one JSON line in REPORT.jsonl, preceded by a `start` line, so the parent
can tell which case a crash interrupted. Damaged files whose load broke the
rules are kept in FOLDER/failures.

The rules for a load: it returns a usable model (weights shaped as its
config says, a prediction of the right shape) or raises `ModelFileError`
whose `path` is the file, with no MemoryError on the way, and a failed
`load_weights` leaves the model's weights as they were.

The script imports only NumPy and kerasette (from where the parent's
environment finds it: with PYTHONSAFEPATH=1, as in CI, the tests folder
is not on its sys.path, so it imports no other test module).
"""

from __future__ import annotations

import argparse
import faulthandler
import io
import json
import logging
import os
import resource
import sys
import time
import warnings
import zipfile

import numpy as np

# The good files, and the loaders that each one's damaged copies go through.
FILES = {
    "model.h5": ("load_model", "load_weights"),
    "model.keras": ("load_model",),
    "weights.h5": ("load_weights", "load_model"),
    "weights.weights.h5": ("load_weights", "load_model"),
}
MUTATIONS = ("bit_flip", "truncate", "zero_block", "random_block")
# Files with a JSON config also get "config_value": one value in the config
# replaced by one of these (valid JSON, wrong type or range), since random
# bytes rarely leave valid JSON behind.
CONFIG_FILES = ("model.h5", "model.keras")
CONFIG_VALUES = (0, -1, 1, 7, 2 ** 31, 2 ** 63, 1e308, float("nan"), float("inf"), 0.5, "",
                 "x", "relu", "float64", "channels_first", None, True, [], {}, [1], [None, 3],
                 [[-1]], {"class_name": "X", "config": {}})
MEMORY_HEADROOM = 2 << 30  # address space allowed above the warmed-up child's
CASE_SECONDS = 10  # a load still running after this is a hang: the child exits
RSS_GROWTH_LIMIT = 256 << 20  # a load that grows the peak RSS more allocated too much

OK, MODEL_FILE_ERROR, OTHER = "ok", "model_file_error", "other"


# -- the model and its files ---------------------------------------------------------


def make_model():
    """A small trained model: Dense + BatchNormalization + Dense, compiled
    with Adam, so full-model files also hold optimizer state."""
    import kerasette as keras

    L = keras.layers
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        L.Dense(4, activation="relu", input_shape=(3,), name="dense_in"),
        L.BatchNormalization(name="norm"),
        L.Dense(2, activation="softmax", name="dense_out"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.linspace(-1, 1, 48, dtype="float32").reshape(16, 3)
    model.fit(x, (x[:, 0] > 0).astype("int64"), batch_size=8, epochs=1, verbose=0)
    return model


def write_good_files(model, folder):
    """Writes the four good files into `folder`; returns {name: bytes}."""
    model.save(os.path.join(folder, "model.h5"))
    model.save(os.path.join(folder, "model.keras"))
    model.save_weights(os.path.join(folder, "weights.h5"))  # tf.keras 2's legacy layout
    model.save_weights(os.path.join(folder, "weights.weights.h5"))  # Keras 3's layout
    out = {}
    for name in FILES:
        with open(os.path.join(folder, name), "rb") as fh:
            out[name] = fh.read()
    return out


def good_name(path):
    """The good file a damaged file `<case>__<good name>` came from."""
    return os.path.basename(path).split("__")[-1]


# -- mutations -----------------------------------------------------------------------


def _block(rng, size):
    """A random (offset, length) inside `size` bytes; short blocks are likelier."""
    length = int(min(size, rng.geometric(1 / 64)))
    return int(rng.integers(0, size - length + 1)), length


def mutate_bytes(data, kind, rng):
    """Damages `data` one way; returns (new bytes, what was done)."""
    buf = bytearray(data)
    if kind == "bit_flip":
        bits = rng.integers(0, len(buf) * 8, size=int(rng.integers(1, 9)))
        for bit in bits:
            buf[bit // 8] ^= 1 << (bit % 8)
        return bytes(buf), f"flipped bits {sorted(int(b) for b in bits)}"
    if kind == "truncate":
        cut = int(rng.integers(0, len(buf)))
        return bytes(buf[:cut]), f"cut at {cut} of {len(buf)}"
    offset, length = _block(rng, len(buf))
    if kind == "zero_block":
        buf[offset:offset + length] = bytes(length)
    elif kind == "random_block":
        buf[offset:offset + length] = rng.bytes(length)
    else:
        raise ValueError(kind)
    return bytes(buf), f"{kind} at {offset}, {length} bytes"


def rezip(data, edit):
    """A valid archive with the members of the zip `data`, each passed
    through `edit(name, payload) -> payload`."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info, edit(info.filename, src.read(info.filename)))
    return out.getvalue()


def mutate_member(data, kind, rng):
    """Damages one member of a zip and rebuilds a valid archive around it,
    so the damage gets past the zip's CRC checks to the member's reader."""
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    victim = names[int(rng.integers(0, len(names)))]
    done = []

    def edit(name, payload):
        if name != victim or not payload:
            return payload
        payload, detail = mutate_bytes(payload, kind, rng)
        done.append(detail)
        return payload

    data = rezip(data, edit)
    return data, f"member {victim}: {done[0] if done else 'empty, unchanged'}"


def _config_leaves(node, path=()):
    """Paths of every value inside a parsed JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _config_leaves(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _config_leaves(value, path + (i,))
    if path:
        yield path


def mutate_json(text, rng):
    """One value of the JSON `text` replaced by a CONFIG_VALUES entry."""
    doc = json.loads(text)
    paths = list(_config_leaves(doc))
    where = paths[int(rng.integers(0, len(paths)))]
    value = CONFIG_VALUES[int(rng.integers(0, len(CONFIG_VALUES)))]
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    return json.dumps(doc), f"{'/'.join(map(str, where))} = {value!r}"


def mutate_config(data, name, rng):
    """Replaces one value in the JSON config of the model file `data`."""
    if name.endswith(".keras"):
        done = []

        def edit(member, payload):
            if member != "config.json":
                return payload
            text, detail = mutate_json(payload.decode(), rng)
            done.append(detail)
            return text.encode()

        return rezip(data, edit), f"config.json: {done[0]}"
    import h5py

    buf = io.BytesIO(data)
    key = ("model_config", "training_config")[int(rng.integers(0, 2))]
    with h5py.File(buf, "r+") as f:
        text, detail = mutate_json(f.attrs[key], rng)
        f.attrs[key] = text.encode()
    return buf.getvalue(), f"{key}: {detail}"


def make_case(good, index, seed):
    """Case `index`: (good file name, mutation kind, detail, damaged bytes).
    Each case has its own generator, so any one can be replayed alone."""
    rng = np.random.default_rng([seed, index])
    names = list(FILES)
    name = names[index % len(names)]
    kinds = MUTATIONS + (("config_value",) if name in CONFIG_FILES else ())
    kind = kinds[int(rng.integers(0, len(kinds)))]
    if kind == "config_value":
        data, detail = mutate_config(good[name], name, rng)
    elif name.endswith(".keras") and rng.random() < 0.5:
        data, detail = mutate_member(good[name], kind, rng)
        kind = "member_" + kind
    else:
        data, detail = mutate_bytes(good[name], kind, rng)
    return name, kind, detail, data


# -- checking one load ---------------------------------------------------------------


def _shapes(model):
    return [tuple(w.shape) for w in model.get_weights()]


def check_loaded_model(model):
    """A loaded model must be usable: weights with the shapes its own
    config gives, and a prediction of the right shape (finite or not:
    flipped bits in a weight cannot be detected)."""
    import kerasette as keras

    twin = keras.Sequential.from_config(model.get_config())
    assert _shapes(model) == _shapes(twin), (_shapes(model), _shapes(twin))
    x = np.linspace(-2, 2, 15, dtype="float32").reshape(5, 3)
    y = np.asarray(model.predict(x, verbose=0))
    expected = np.asarray(twin.predict(x, verbose=0)).shape
    assert y.shape == expected, (y.shape, expected)


def _chain(err):
    """Type names of `err` and of the exceptions it was raised from."""
    names, seen = [], set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        names.append(type(err).__name__)
        err = err.__cause__ or err.__context__
    return names


def _fresh_target(good_model):
    """A model of the good architecture whose weights differ from the file's."""
    import kerasette as keras

    target = keras.Sequential.from_config(good_model.get_config())
    target.set_weights([w + 1 for w in good_model.get_weights()])
    return target


def run_load(loader, path, good_model):
    """Runs one load; returns its outcome record (never raises)."""
    import kerasette as keras
    from kerasette.saving import ModelFileError

    record = {"loader": loader}
    target = before = None
    try:
        if loader == "load_model":
            check_loaded_model(keras.models.load_model(path))
        else:
            target = _fresh_target(good_model)
            before = target.get_weights()
            target.load_weights(path)
            assert _shapes(target) == [w.shape for w in before]
            check_loaded_model(target)
        record["outcome"] = OK
    except ModelFileError as err:
        record.update(outcome=MODEL_FILE_ERROR, message=str(err)[:300], chain=_chain(err))
        problems = []
        if err.path != path or path not in str(err):
            problems.append("the message does not name the file")
        if "MemoryError" in record["chain"] and "too large to build" not in str(err):
            # (A config that declares a model too big for memory can only be
            # refused when building it fails: that one is allowed.)
            problems.append("a huge allocation was tried before refusing")
        if before is not None and not all(
                np.array_equal(a, b) for a, b in zip(before, target.get_weights())):
            problems.append("the failed load_weights changed the model")
        if problems:
            record.update(outcome=OTHER, problems=problems)
    except Exception as err:  # noqa: BLE001 - any other type breaks the contract
        record.update(outcome=OTHER, error_type=type(err).__name__, chain=_chain(err),
                      message=repr(err)[:300])
    return record


def guarded_load(loader, path, good_model):
    """`run_load` under a deadline, with warnings silenced (damaged
    optimizer state warns by design; garbage weights overflow in predict)
    and the peak-RSS growth recorded. Past the deadline faulthandler's
    watchdog thread (which needs no GIL, so a hang inside C code cannot
    stop it) prints every thread's stack and exits with status 1."""
    rss = max_rss_bytes()
    faulthandler.dump_traceback_later(CASE_SECONDS, exit=True)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        record = run_load(loader, path, good_model)
    faulthandler.cancel_dump_traceback_later()
    record["rss_growth"] = max_rss_bytes() - rss
    if record["rss_growth"] > RSS_GROWTH_LIMIT:
        record.update(outcome=OTHER, problems=record.get("problems", []) + [
            f"peak memory grew by {record['rss_growth'] >> 20} MiB"])
    return record


# -- the child process ---------------------------------------------------------------


def _vm_size():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return None


def cap_memory():
    """Caps the address space at the warmed-up size plus MEMORY_HEADROOM, so
    a runaway allocation fails as MemoryError instead of swapping (Linux
    only; elsewhere the peak-RSS check still catches smaller ones)."""
    size = _vm_size() if sys.platform.startswith("linux") else None
    if size is None:
        return None
    limit = size + MEMORY_HEADROOM
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit


def max_rss_bytes():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def _fuzz(args, good, good_model, emit):
    """The fuzz loop: cases until `--cases` or `--budget` runs out."""
    failures = os.path.join(args.folder, "failures")
    work = os.path.join(args.folder, "work")
    os.makedirs(work, exist_ok=True)
    start = time.monotonic()
    indices = ([args.only] if args.only is not None
               else range(args.first, args.first + args.cases))
    for index in indices:
        if time.monotonic() - start > args.budget:
            emit({"budget_exhausted_at": index})
            break
        name, kind, detail, data = make_case(good, index, args.seed)
        path = os.path.join(work, f"case{index}__{name}")
        with open(path, "wb") as fh:
            fh.write(data)
        for loader in FILES[name]:
            emit({"start": index, "file": name, "kind": kind, "detail": detail,
                  "loader": loader})
            record = guarded_load(loader, path, good_model)
            record.update(case=index, file=name, kind=kind, detail=detail)
            emit(record)
            if record["outcome"] == OTHER:
                os.makedirs(failures, exist_ok=True)
                os.replace(path, os.path.join(failures, os.path.basename(path)))
                break
        if os.path.exists(path):
            os.remove(path)
    return time.monotonic() - start


def _check(paths, good_model, emit):
    """Loads the given damaged files (named `<case>__<good name>`)."""
    for path in paths:
        for loader in FILES[good_name(path)]:
            emit({"start": path, "loader": loader})
            record = guarded_load(loader, path, good_model)
            record["file"] = path
            emit(record)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="where the good files (and failures/) go")
    parser.add_argument("report", help="the JSON-lines report to write")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds for all cases")
    parser.add_argument("--first", type=int, default=0, help="index of the first case")
    parser.add_argument("--only", type=int, default=None, help="replay this case only")
    parser.add_argument("--check", nargs="+", default=None, metavar="FILE",
                        help="load these files (named <anything>__<good file name>)")
    args = parser.parse_args(argv)

    import kerasette as keras

    # Damaged optimizer state is logged by design; keep stderr for real trouble.
    logging.getLogger("kerasette").addHandler(logging.NullHandler())
    logging.getLogger("kerasette").propagate = False
    good_model = make_model()
    good = write_good_files(good_model, args.folder)
    keras.models.load_model(os.path.join(args.folder, "model.h5"))  # warm every code path
    limit = cap_memory()
    rss0 = max_rss_bytes()
    with open(args.report, "w") as report:
        def emit(obj):
            report.write(json.dumps(obj) + "\n")
            report.flush()  # a crash must not lose the `start` line

        emit({"header": True, "memory_limit": limit, "seed": args.seed})
        if args.check:
            seconds = 0.0
            _check(args.check, good_model, emit)
        else:
            seconds = _fuzz(args, good, good_model, emit)
        emit({"done": True, "seconds": seconds, "max_rss_growth": max_rss_bytes() - rss0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
