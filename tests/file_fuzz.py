"""The file fuzzer behind `test_fuzz_files.py`: damages saved model files
and checks what the loaders make of them.

Run as a script it is a child process of the test, so that a segfault, a
hang or a runaway allocation (in the HDF5 library or in kerasette) kills
the child and not pytest:

    python tests/file_fuzz.py FOLDER REPORT.jsonl --cases 300 --seed 7 --budget 20
    python tests/file_fuzz.py FOLDER REPORT.jsonl --seed 7 --only 156   # replay one case
    python tests/file_fuzz.py FOLDER REPORT.jsonl --check F1 F2 ...     # load given files
    python tests/file_fuzz.py FOLDER REPORT.jsonl --storage [--only i]  # storage layouts

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

With `--storage` it goes through every good file × every HDF5 storage
Keras never writes (`STORAGE`: chunked, each filter, compact, external
storage, virtual, external and soft links) × a damage (`STORAGE_DAMAGE`:
none, 15 zeroed or a few flipped bytes in the chunk index or the dataset's
object header, damage anywhere). Each case rewrites one dataset of the
file, chosen at random. Undamaged, every load must be refused for that
reason; damaged, the usual rules hold. External targets exist twice: a
regular file holding the right bytes (a load that followed it would
succeed, silently) and a FIFO (opening it would block: a hang).

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
import itertools
import json
import logging
import os
import posixpath
import resource
import struct
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
# A load that grows the peak RSS more allocated too much: no file under 1 MB
# may cost more (issue 16).
RSS_GROWTH_LIMIT = 64 << 20

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


# -- storage Keras never writes -------------------------------------------------------

# kind: words of which its refusal must hold one. A link added to a group of
# more than 8 links turns it into one kept in a fractal heap (HDF5's dense
# link storage), which is refused first, for that.
_LINK = "fractal heap"
STORAGE = {
    "chunked": ("stored chunked",),
    "gzip": ("compressed or filtered (gzip)",),
    "shuffle": ("compressed or filtered (shuffle)",),
    "fletcher32": ("compressed or filtered (fletcher32)",),
    "gzip_shuffle_fletcher32": ("compressed or filtered",),
    "lzf": ("compressed or filtered (lzf)",),
    "scaleoffset": ("compressed or filtered (scaleoffset)",),
    "nbit": ("compressed or filtered (nbit)",),
    "compact": ("stored compact",),
    "external": ("external storage",),
    "external_fifo": ("external storage",),
    "virtual": ("virtual dataset",),
    "virtual_fifo": ("virtual dataset",),
    "external_link": ("external link", _LINK),
    "external_link_fifo": ("external link", _LINK),
    "soft_link": ("soft link", _LINK),
}
STORAGE_DAMAGE = ("none", "index_zeroed", "index_flipped", "anywhere")
SECRET = "secret.bin"  # external storage's target: the right bytes for the weight
OTHER_H5 = "other.h5"  # external links' and virtual datasets' target: a good dataset


def storage_cases():
    """Every (good file, storage kind, damage), in a fixed order (the FIFO
    targets where the platform has FIFOs)."""
    kinds = [k for k in STORAGE if hasattr(os, "mkfifo") or not k.endswith("_fifo")]
    return list(itertools.product(FILES, kinds, STORAGE_DAMAGE))


def _datasets(f):
    """Paths of the datasets in an open h5py file with at least 2 values
    (chunkable, and worth compressing)."""
    import h5py

    found = []
    f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset)
                 and obj.ndim and obj.size >= 2 else None)
    return sorted(found)


def _create_low_level(group, name, data, dcpl):
    """A dataset written through HDF5's own API, for layouts and filters
    h5py's `create_dataset` has no argument for (compact, nbit)."""
    import h5py

    space = h5py.h5s.create_simple(data.shape)
    dsid = h5py.h5d.create(group.id, name.encode(), h5py.h5t.py_create(data.dtype), space,
                           dcpl=dcpl)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(data))


def rewrite_dataset(f, path, kind, targets):
    """Replaces dataset `path` of the open file `f` by the same values
    stored as `kind`; `targets` holds the files that external storage,
    virtual datasets and external links point at."""
    import h5py

    data = f[path][()]
    group, name = f[posixpath.dirname(path) or "/"], posixpath.basename(path)
    del group[name]
    chunks = tuple(max(1, d // 2) for d in data.shape)
    filters = {"gzip": {"compression": "gzip"}, "shuffle": {"shuffle": True},
               "fletcher32": {"fletcher32": True}, "lzf": {"compression": "lzf"},
               "gzip_shuffle_fletcher32": {"compression": "gzip", "shuffle": True,
                                           "fletcher32": True},
               "scaleoffset": {"scaleoffset": 3}, "chunked": {}}
    if kind in filters:
        group.create_dataset(name, data=data, chunks=chunks, **filters[kind])
    elif kind in ("compact", "nbit"):
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        if kind == "compact":
            dcpl.set_layout(h5py.h5d.COMPACT)
        else:
            dcpl.set_chunk(chunks)
            dcpl.set_filter(h5py.h5z.FILTER_NBIT)
        _create_low_level(group, name, data, dcpl)
    elif kind.startswith("external_link"):
        group[name] = h5py.ExternalLink(targets[kind], f"/{data.shape}")
    elif kind.startswith("external"):
        group.create_dataset(name, shape=data.shape, dtype=data.dtype,
                             external=[(targets[kind], 0, data.nbytes)])
    elif kind.startswith("virtual"):
        layout = h5py.VirtualLayout(shape=data.shape, dtype=data.dtype)
        layout[...] = h5py.VirtualSource(targets[kind], f"/{data.shape}", shape=data.shape)
        group.create_virtual_dataset(name, layout)
    elif kind == "soft_link":
        f.create_dataset(f"/stash/{path}", data=data)  # the values, elsewhere in this file
        group[name] = h5py.SoftLink(f"/stash/{path}")
    else:
        raise ValueError(kind)


def make_targets(folder, good_model):
    """The files external storage and links point at: the right values for
    every weight shape (so a load that followed them would succeed), and
    FIFOs (so a load that opened them would block, and show as a hang)."""
    import h5py

    arrays = good_model.get_weights() + [np.zeros(2, "float32")]
    with open(os.path.join(folder, SECRET), "wb") as fh:
        fh.write(np.ascontiguousarray(arrays[0]).tobytes() + bytes(1 << 16))
    with h5py.File(os.path.join(folder, OTHER_H5), "w") as f:
        for a in arrays:
            if str(a.shape) not in f:
                f.create_dataset(str(a.shape), data=a)
    targets = {"external": SECRET, "virtual": OTHER_H5, "external_link": OTHER_H5}
    targets = {k: os.path.join(folder, v) for k, v in targets.items()}
    if hasattr(os, "mkfifo"):
        for kind in ("external", "virtual", "external_link"):
            fifo = os.path.join(folder, f"{kind}.fifo")
            if not os.path.exists(fifo):
                os.mkfifo(fifo)
            targets[f"{kind}_fifo"] = fifo
    return targets


def _header_address(f, path):
    """File offset of the object header of dataset `path` (None for a link)."""
    import h5py

    group, name = f[posixpath.dirname(path) or "/"], posixpath.basename(path)
    link = group.get(name, getlink=True)
    if not isinstance(link, h5py.HardLink):
        return None
    low, high = h5py.h5g.get_objinfo(group.id, name.encode()).objno
    return low + (high << (8 * struct.calcsize("L")))  # two C unsigned longs


def _damage_storage(data, where, damage, rng):
    """Damages HDF5 bytes `data`: 15 zeroed or a few flipped bytes in a
    chunk index node ("TREE" of type 1) or, where there is none, at
    `where` (the dataset's object header), or one mutation anywhere."""
    if damage == "anywhere":
        return mutate_bytes(data, MUTATIONS[int(rng.integers(0, len(MUTATIONS)))], rng)
    nodes, at = [], data.find(b"TREE\x01")
    while at != -1:
        nodes.append(at)
        at = data.find(b"TREE\x01", at + 1)
    if nodes:
        start, what = nodes[int(rng.integers(0, len(nodes)))], "chunk index"
    elif where is not None:
        start, what = where, "object header"
    else:
        return mutate_bytes(data, "bit_flip", rng)
    buf = bytearray(data)
    if damage == "index_zeroed":
        at = start + int(rng.integers(0, 48))
        buf[at:at + 15] = bytes(15)
        return bytes(buf), f"15 bytes zeroed at {at} ({what} at {start})"
    bits = sorted(int(b) for b in rng.integers(0, 96 * 8, size=int(rng.integers(1, 9))))
    for bit in bits:
        if start + bit // 8 < len(buf):
            buf[start + bit // 8] ^= 1 << (bit % 8)
    return bytes(buf), f"bits {bits} flipped from {start} ({what})"


def _restore_h5_bytes(payload, kind, damage, targets, rng):
    """An HDF5 file's bytes with one dataset rewritten as `kind`, then damaged."""
    import h5py

    buf = io.BytesIO(payload)
    with h5py.File(buf, "r+") as f:
        paths = _datasets(f)
        path = paths[int(rng.integers(0, len(paths)))]
        rewrite_dataset(f, path, kind, targets)
        where = _header_address(f, path)
    data, detail = buf.getvalue(), f"{path} as {kind}"
    if damage != "none":
        data, done = _damage_storage(data, where, damage, rng)
        detail += f"; {done}"
    return data, detail


def make_storage_case(good, index, seed, targets):
    """Storage case `index`: (good file name, kind, damage, detail, bytes).
    In a `.keras` archive the member `model.weights.h5` is rewritten (and
    damaged), and the zip rebuilt around it."""
    name, kind, damage = storage_cases()[index]
    rng = np.random.default_rng([seed, index])
    if not name.endswith(".keras"):
        data, detail = _restore_h5_bytes(good[name], kind, damage, targets, rng)
        return name, kind, damage, detail, data
    done = []

    def edit(member, payload):
        if member != "model.weights.h5":
            return payload
        payload, detail = _restore_h5_bytes(payload, kind, damage, targets, rng)
        done.append(detail)
        return payload

    data = rezip(good[name], edit)
    return name, kind, damage, f"model.weights.h5: {done[0]}", data


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
    rss, start = max_rss_bytes(), time.monotonic()
    faulthandler.dump_traceback_later(CASE_SECONDS, exit=True)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        record = run_load(loader, path, good_model)
    faulthandler.cancel_dump_traceback_later()
    record["seconds"] = round(time.monotonic() - start, 4)
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


def _load_case(args, path, data, info, good_model, emit, refused_for=None):
    """Writes one damaged file and loads it with each loader of its kind.

    Args:
        info: what the records say about the case (`case`, `file`, `kind`...).
        refused_for: words of which every load's `ModelFileError` must hold
            one (None: a load may also succeed).
    """
    with open(path, "wb") as fh:
        fh.write(data)
    for loader in FILES[info["file"]]:
        emit({"start": info["case"], **info, "loader": loader})
        record = guarded_load(loader, path, good_model)
        record.update(info)
        if refused_for is not None and record["outcome"] != OTHER and (
                record["outcome"] == OK or not any(w in record["message"] for w in refused_for)):
            record.update(outcome=OTHER, problems=[f"not refused for any of {refused_for}"])
        emit(record)
        if record["outcome"] == OTHER:
            failures = os.path.join(args.folder, "failures")
            os.makedirs(failures, exist_ok=True)
            os.replace(path, os.path.join(failures, os.path.basename(path)))
            return
    os.remove(path)


def _fuzz(args, good, good_model, emit):
    """The fuzz loop: cases until `--cases` or `--budget` runs out."""
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
        info = {"case": index, "file": name, "kind": kind, "detail": detail}
        _load_case(args, os.path.join(work, f"case{index}__{name}"), data, info, good_model,
                   emit)
    return time.monotonic() - start


def _storage(args, good, good_model, emit):
    """Every storage case (`storage_cases`), or `--only` one: undamaged,
    each load must be refused for its storage (`STORAGE`)."""
    work = os.path.join(args.folder, "work")
    os.makedirs(work, exist_ok=True)
    targets = make_targets(args.folder, good_model)
    start = time.monotonic()
    cases = storage_cases()
    for index in [args.only] if args.only is not None else range(len(cases)):
        name, kind, damage, detail, data = make_storage_case(good, index, args.seed, targets)
        info = {"case": index, "file": name, "kind": kind, "damage": damage, "detail": detail}
        _load_case(args, os.path.join(work, f"storage{index}__{name}"), data, info, good_model,
                   emit, refused_for=STORAGE[kind] if damage == "none" else None)
    return time.monotonic() - start


def _check(paths, good_model, emit):
    """Loads the given damaged files (named `<case>__<good name>`; a model
    folder is loaded with `load_model`)."""
    for path in paths:
        for loader in FILES.get(good_name(path), ("load_model",)):
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
    parser.add_argument("--storage", action="store_true",
                        help="the storage cases instead of random damage")
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
        elif args.storage:
            seconds = _storage(args, good, good_model, emit)
        else:
            seconds = _fuzz(args, good, good_model, emit)
        emit({"done": True, "seconds": seconds, "max_rss_growth": max_rss_bytes() - rss0})
    return 0


if __name__ == "__main__":
    sys.exit(main())
