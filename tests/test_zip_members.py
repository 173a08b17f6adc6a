"""`.keras` members are read as streams, within the sizes they declare.

The attacks, each built here with zipfile and a few patched bytes:

* a member that declares 2,000 bytes but inflates to 128 MiB. zipfile's
  `read` inflated all of it at once before finding the CRC wrong (the
  issue measured 1.9 GB for 2 GiB); read in 1 MiB chunks with a running
  count, the load is refused at the declared size;
* the same with the CRC forged for the first 2,000 bytes: zipfile then
  returns those 2,000 bytes, which are no HDF5 file;
* a member that honestly declares 64 MiB of zeros, stored in 64 KB (the
  issue's 250 MiB in 250 KB cost 494 MB): refused before it is read, as
  more than a member of such a small archive may inflate to;
* a member compressed with bzip2, which zipfile inflates without a bound
  per call: refused.

The peak memory of the loads is measured in a child process (`ru_maxrss`):
a file under 1 MB may not raise it by more than 64 MB.
"""

import io
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
import zlib

import numpy as np
import pytest

import kerasette as keras
from kerasette.saving import ModelFileError, zip_member
from kerasette.saving.keras_zip import model_members

MB = 1 << 20
INFLATED = 128 * MB
DECLARED = 2000
PEAK_LIMIT = 64 * MB


@pytest.fixture
def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("zip reading is backend-independent; runs once, on the numpy backend")


def small_model():
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", input_shape=(3,)),
                              keras.layers.Dense(2)])
    model.compile("adam", "mse")
    return model


def write_archive(path, model, weights_size=None, method=zipfile.ZIP_DEFLATED):
    """A `.keras` of `model` whose `model.weights.h5` is the real one, or,
    with `weights_size`, that many zeros, streamed (never all in memory)."""
    members = model_members(model)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            if name == "model.weights.h5" and weights_size is not None:
                info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
                info.compress_type = method
                with zf.open(info, "w") as out:
                    for start in range(0, weights_size, MB):
                        out.write(bytes(min(MB, weights_size - start)))
            else:
                zf.writestr(name, data)


def declare(path, name, size, crc=None):
    """Patches the uncompressed size (and CRC) that the local header and
    the central directory give for member `name`."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(name)
    local = info.header_offset
    assert data[local:local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, local + 22, size)
    central = data.index(b"PK\x01\x02")
    while True:  # the central directory entry of `name`
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + name_len] == name.encode():
            break
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, size)
    if crc is not None:
        struct.pack_into("<I", data, local + 14, crc)
        struct.pack_into("<I", data, central + 16, crc)
    path.write_bytes(bytes(data))


def attack_files(folder):
    model = small_model()
    good = folder / "good.keras"
    model.save(good)
    lying = folder / "lying.keras"
    write_archive(lying, model, weights_size=INFLATED)
    declare(lying, "model.weights.h5", DECLARED)
    forged = folder / "lying_forged_crc.keras"
    write_archive(forged, model, weights_size=INFLATED)
    declare(forged, "model.weights.h5", DECLARED, crc=zlib.crc32(bytes(DECLARED)))
    bomb = folder / "honest_bomb.keras"
    write_archive(bomb, model, weights_size=64 * MB)
    bzip2 = folder / "bzip2.keras"
    write_archive(bzip2, model, weights_size=64 * MB, method=zipfile.ZIP_BZIP2)
    return good, {"lying": lying, "forged": forged, "bomb": bomb, "bzip2": bzip2}


EXPECTED = {
    "lying": "cannot read member model.weights.h5 (Bad CRC-32",
    "forged": "model.weights.h5 is not a readable HDF5 file",
    "bomb": "refused as a zip bomb",
    "bzip2": "compressed with bzip2, which kerasette does not read",
}

CHILD = """
import json, resource, sys, time
import kerasette as keras
from kerasette.saving import ModelFileError

good, names, paths = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
for _ in range(2):  # warm up: imports, the allocator's pools
    keras.models.load_model(good)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
records = []
for name, path in zip(names, paths):
    start = time.perf_counter()
    try:
        keras.models.load_model(path)
        outcome = "loaded"
    except ModelFileError as err:
        outcome = str(err)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    records.append({"name": name, "outcome": outcome, "seconds": time.perf_counter() - start,
                    "peak_growth_kib": peak})
print(json.dumps(records))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's unit")
def test_lying_and_bomb_members_are_refused_in_bounded_memory(numpy_only, tmp_path):
    good, attacks = attack_files(tmp_path)
    for path in attacks.values():
        assert path.stat().st_size < 1_000_000
    proc = subprocess.run([sys.executable, "-c", CHILD, str(good), ",".join(attacks),
                           *map(str, attacks.values())], env=os.environ, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = json.loads(proc.stdout.splitlines()[-1])
    for record in records:
        assert EXPECTED[record["name"]] in record["outcome"], record
        assert record["seconds"] < 5, record
    # ru_maxrss only grows, so the last record holds the peak of all loads.
    assert records[-1]["peak_growth_kib"] * 1024 < PEAK_LIMIT, records


class _Endless:
    """A member's stream that never ends, counting what was pulled."""

    def __init__(self):
        self.pulled = 0

    def read(self, n=-1):
        n = zip_member.CHUNK if n is None or n < 0 else n
        self.pulled += n
        return bytes(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Archive:
    """Stands in for a ZipFile whose `open` gives `stream` (as a zipfile
    that did not stop at the declared size would)."""

    def __init__(self, stream, declared):
        self.stream = stream
        self.info = zipfile.ZipInfo("model.weights.h5")
        self.info.file_size = self.info.compress_size = declared

    def getinfo(self, name):
        return self.info

    def open(self, info):
        return self.stream


def test_the_running_count_stops_at_the_declared_size(numpy_only):
    stream = _Endless()
    with pytest.raises(ModelFileError, match="inflates to more than the 2000 bytes it "
                                             "declares"):
        zip_member.read_member(_Archive(stream, DECLARED), "x.keras", "model.weights.h5",
                               archive_size=10_000)
    assert stream.pulled <= DECLARED + zip_member.CHUNK


def test_a_member_shorter_than_declared_is_refused(numpy_only):
    class Short(_Endless):
        def read(self, n=-1):
            if self.pulled:
                return b""
            self.pulled = 100
            return bytes(100)

    with pytest.raises(ModelFileError, match="ends after 100 of the 2000 bytes"):
        zip_member.read_member(_Archive(Short(), DECLARED), "x.keras", "model.weights.h5",
                               archive_size=10_000)


def test_declared_sizes_beyond_what_the_archive_can_hold(numpy_only):
    info = zipfile.ZipInfo("config.json")
    info.compress_type = zipfile.ZIP_DEFLATED
    info.compress_size, info.file_size = 500, 2 * MB
    # A JSON member inflates to at most the archive's size (or 1 MiB).
    with pytest.raises(ModelFileError, match="refused as a zip bomb"):
        zip_member.check_declared_size(info, "x.keras", 600_000, ratio=zip_member.JSON_RATIO)
    zip_member.check_declared_size(info, "x.keras", 3 * MB, ratio=zip_member.JSON_RATIO)
    # The weights: up to 8 times the archive.
    info.filename, info.file_size = "model.weights.h5", 8 * MB
    zip_member.check_declared_size(info, "x.keras", MB)
    info.file_size += 1
    with pytest.raises(ModelFileError, match="refused as a zip bomb"):
        zip_member.check_declared_size(info, "x.keras", MB)
    info.compress_type, info.file_size = zipfile.ZIP_STORED, MB + 1  # stored: the archive
    with pytest.raises(ModelFileError, match="the archive is damaged"):
        zip_member.check_declared_size(info, "x.keras", MB)


def test_deflated_archives_that_keras_could_read_still_load(numpy_only, tmp_path):
    """A genuine `.keras` re-zipped with deflate (as `zip -r` does) loads."""
    model = small_model()
    model.fit(np.ones((8, 3), "float32"), np.zeros((8, 2), "float32"), verbose=0)
    write_archive(tmp_path / "deflated.keras", model)
    start = time.perf_counter()
    loaded = keras.models.load_model(tmp_path / "deflated.keras")
    assert time.perf_counter() - start < 5
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(loaded.optimizer.iterations.numpy()) == 1
