"""kerasette.utils: get_file (against a local server), to_categorical,
normalize and plot_history."""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from local_server import LocalServer, closed_port_url

import kerasette as keras
from kerasette.utils import file_utils
from kerasette.utils.file_utils import DownloadError, extract_archive, get_file

PAYLOAD = bytes(range(256)) * 1000  # 256 kB: a few chunks, a real progress bar
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: these checks run once."""
    yield None


pytestmark = pytest.mark.usefixtures("quick_retries")


@pytest.fixture
def home(tmp_path, monkeypatch):
    root = tmp_path / "home"
    monkeypatch.setenv("KERASETTE_HOME", str(root))
    return root


@pytest.fixture
def server():
    with LocalServer({"/data/file.bin": PAYLOAD}) as s:
        yield s


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- get_file: downloads ------------------------------------------------------------------


def test_get_file_downloads_verifies_and_shows_progress(server, tmp_path, capsys):
    path = get_file("file.bin", origin=server.url("/data/file.bin"), file_hash=PAYLOAD_SHA256,
                    cache_dir=tmp_path)
    assert Path(path) == tmp_path / "datasets" / "file.bin"
    assert Path(path).read_bytes() == PAYLOAD
    out, err = capsys.readouterr()
    assert f"Downloading data from {server.url('/data/file.bin')}" in out
    assert "file.bin" in err and "100%" in err  # tqdm's bar, on stderr
    assert leftovers(tmp_path / "datasets") == ["file.bin"]  # no temporary file left


def test_get_file_uses_the_cache_and_kerasette_home(server, home):
    url = server.url("/data/file.bin")
    first = get_file("file.bin", url, file_hash=PAYLOAD_SHA256)
    assert Path(first) == home / "datasets" / "file.bin"
    second = get_file("file.bin", url, file_hash=PAYLOAD_SHA256)
    assert second == first and server.requests == ["/data/file.bin"]
    get_file("file.bin", url, force_download=True)
    assert len(server.requests) == 2


def test_get_file_takes_its_name_from_the_url_and_checks_md5(server, tmp_path):
    path = get_file(origin=server.url("/data/file.bin"), md5_hash=PAYLOAD_MD5, cache_dir=tmp_path,
                    cache_subdir="sub")
    assert Path(path) == tmp_path / "sub" / "file.bin"
    again = get_file(origin=server.url("/data/file.bin"), file_hash=PAYLOAD_MD5,
                     hash_algorithm="md5", cache_dir=tmp_path, cache_subdir="sub")
    assert again == path and len(server.requests) == 1


def test_get_file_downloads_again_when_the_cached_hash_differs(server, tmp_path, capsys):
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "file.bin").write_bytes(b"stale")
    path = get_file("file.bin", server.url("/data/file.bin"), file_hash=PAYLOAD_SHA256,
                    cache_dir=tmp_path)
    assert Path(path).read_bytes() == PAYLOAD and len(server.requests) == 1
    assert "does not match" in capsys.readouterr().err


def test_get_file_retries_after_one_failure(server, tmp_path):
    server.fail_next["/data/file.bin"] = ["503"]
    path = get_file("file.bin", server.url("/data/file.bin"), file_hash=PAYLOAD_SHA256,
                    cache_dir=tmp_path)
    assert Path(path).read_bytes() == PAYLOAD
    assert server.requests == ["/data/file.bin"] * 2


def test_get_file_retries_a_truncated_transfer(server, tmp_path):
    server.fail_next["/data/file.bin"] = ["truncate"]
    path = get_file("file.bin", server.url("/data/file.bin"), cache_dir=tmp_path)
    assert Path(path).read_bytes() == PAYLOAD  # no hash given: the length check caught it
    assert len(server.requests) == 2


def test_get_file_gives_up_after_three_tries(server, tmp_path):
    server.fail_next["/data/file.bin"] = ["503"] * 3
    with pytest.raises(DownloadError, match=r"HTTP 503 .*3 tries") as info:
        get_file("file.bin", server.url("/data/file.bin"), cache_dir=tmp_path)
    assert isinstance(info.value, OSError) and "\n" not in str(info.value)
    assert len(server.requests) == 3
    assert leftovers(tmp_path / "datasets") == []


def test_get_file_does_not_retry_a_missing_file(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        get_file("nope.bin", server.url("/data/nope.bin"), cache_dir=tmp_path)
    assert server.requests == ["/data/nope.bin"]


def test_get_file_without_network_raises_one_line(tmp_path):
    url = closed_port_url("/file.bin")
    with pytest.raises(DownloadError) as info:
        get_file("file.bin", url, cache_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message and url in message and "3 tries" in message


def test_get_file_writes_atomically(server, tmp_path):
    target = tmp_path / "datasets" / "file.bin"
    seen = []
    server.on_midway = lambda path: seen.append((target.exists(), leftovers(target.parent)))
    get_file("file.bin", server.url("/data/file.bin"), file_hash=PAYLOAD_SHA256,
             cache_dir=tmp_path)
    assert len(seen) == 1
    exists_midway, files_midway = seen[0]
    assert not exists_midway  # the target appears only once complete and verified
    assert len(files_midway) == 1 and files_midway[0].endswith(".part")
    assert leftovers(target.parent) == ["file.bin"]
    assert (target.stat().st_mode & 0o777) == 0o644


def test_get_file_bad_hash_raises_and_leaves_nothing(server, tmp_path):
    with pytest.raises(ValueError, match="corrupted"):
        get_file("file.bin", server.url("/data/file.bin"), file_hash="0" * 64, cache_dir=tmp_path)
    assert leftovers(tmp_path / "datasets") == []
    assert len(server.requests) == 1  # a wrong hash is not a network hiccup: no retry


def test_get_file_bad_download_keeps_the_old_file(server, tmp_path):
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "file.bin").write_bytes(b"old")
    server.fail_next["/data/file.bin"] = ["garbage"]
    with pytest.raises(ValueError, match="corrupted"):
        get_file("file.bin", server.url("/data/file.bin"), file_hash=PAYLOAD_SHA256,
                 cache_dir=tmp_path)
    assert leftovers(folder) == ["file.bin"] and (folder / "file.bin").read_bytes() == b"old"


def test_get_file_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="origin"):
        get_file("x.bin")
    with pytest.raises(ValueError, match="hash_algorithm"):
        get_file("x.bin", "http://127.0.0.1:1/x.bin", file_hash="0" * 64,
                 hash_algorithm="sha1", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="file name"):
        get_file(origin="http://127.0.0.1:1/", cache_dir=tmp_path)


def test_get_file_falls_back_when_the_cache_cannot_be_written(server, tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setattr(file_utils, "_fallback_base", lambda: str(tmp_path / "fallback"))
    path = get_file("file.bin", server.url("/data/file.bin"), cache_dir=blocked)
    assert Path(path) == tmp_path / "fallback" / "datasets" / "file.bin"


# --- get_file: archives -------------------------------------------------------------------


def make_tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return path


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_get_file_extracts_archives_beside_them(tmp_path, kind):
    members = {"pack/a.txt": b"alpha", "pack/sub/b.txt": b"beta"}
    src = tmp_path / f"pack.{kind}"
    (make_tar if kind == "tar.gz" else make_zip)(src, members)
    cache = tmp_path / "cache"
    path = get_file(f"pack.{kind}", src.as_uri(), extract=True, cache_dir=cache)
    folder = cache / "datasets"
    assert Path(path) == folder / f"pack.{kind}"  # tf.keras 2: the archive's path
    for name, data in members.items():
        assert (folder / name).read_bytes() == data


def test_get_file_untar_returns_the_extracted_folder(tmp_path):
    src = make_tar(tmp_path / "pack.tar.gz", {"pack/a.txt": b"alpha"})
    path = get_file("pack", src.as_uri(), untar=True, cache_dir=tmp_path / "cache")
    assert Path(path) == tmp_path / "cache" / "datasets" / "pack"
    assert (Path(path) / "a.txt").read_bytes() == b"alpha"


@pytest.mark.parametrize("name, why", [
    ("../evil.txt", "'..'"),
    ("ok/../../evil.txt", "'..'"),
    ("/tmp/kerasette-evil.txt", "absolute"),
])
@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_extract_refuses_paths_outside_the_folder(tmp_path, kind, name, why):
    src = tmp_path / f"evil.{kind}"
    (make_tar if kind == "tar.gz" else make_zip)(src, {"good.txt": b"good", name: b"evil"})
    out = tmp_path / "out" / "inner"
    with pytest.raises(ValueError, match=f"Refusing to extract .*{why}"):
        extract_archive(src, out)
    assert not out.exists()  # checked before anything was written
    assert not (tmp_path / "out" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


def test_extract_refuses_links_outside_the_folder(tmp_path):
    src = make_tar(tmp_path / "link.tar.gz", {"a.txt": b"a"}, links={"passwd": "/etc/passwd"})
    with pytest.raises(ValueError, match="link"):
        extract_archive(src, tmp_path / "out")
    src = make_tar(tmp_path / "link2.tar.gz", {}, links={"up": "../../secret"})
    with pytest.raises(ValueError, match="link"):
        extract_archive(src, tmp_path / "out")
    ok = make_tar(tmp_path / "ok.tar.gz", {"d/a.txt": b"a"}, links={"d/b.txt": "a.txt"})
    assert extract_archive(ok, tmp_path / "ok")
    assert (tmp_path / "ok" / "d" / "b.txt").read_bytes() == b"a"


def test_get_file_extract_refuses_traversal(tmp_path):
    src = make_tar(tmp_path / "evil.tar.gz", {"../evil.txt": b"evil"})
    with pytest.raises(ValueError, match="Refusing to extract"):
        get_file("evil.tar.gz", src.as_uri(), extract=True, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "evil.txt").exists()


def test_extract_archive_ignores_other_files(tmp_path):
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"not an archive")
    assert extract_archive(plain, tmp_path / "out") is False
    assert extract_archive(plain, tmp_path / "out", archive_format=None) is False


# --- to_categorical -----------------------------------------------------------------------


def test_to_categorical_keras_documented_example():
    a = keras.utils.to_categorical([0, 1, 2, 3], num_classes=4)
    np.testing.assert_array_equal(a, np.eye(4))
    assert a.dtype == np.float32
    # The rest of Keras's example: categorical cross-entropy against these rows.
    b = np.array([.9, .04, .03, .03, .3, .45, .15, .13, .04, .01, .94, .05, .12, .21, .5, .17],
                 dtype=np.float32).reshape(4, 4)
    loss = np.asarray(keras.losses.categorical_crossentropy(a, b))
    np.testing.assert_allclose(np.around(loss, 5), [0.10536, 0.82807, 0.1011, 1.77196], atol=1e-5)


@pytest.mark.parametrize("shape", [(7,), (7, 1), (2, 3), (2, 3, 1)])
def test_to_categorical_matches_numpy(shape):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, size=shape)
    y.flat[0] = 4  # so max(y) + 1 == 5
    out = keras.utils.to_categorical(y)
    labels = y[..., 0] if len(shape) > 1 and shape[-1] == 1 else y
    np.testing.assert_array_equal(out, np.eye(5, dtype=np.float32)[labels])
    assert out.shape == labels.shape + (5,) and out.dtype == np.float32


def test_to_categorical_options():
    out = keras.utils.to_categorical(np.array([1.0, 0.0]), num_classes=3, dtype="int64")
    np.testing.assert_array_equal(out, [[0, 1, 0], [1, 0, 0]])
    assert out.dtype == np.int64
    assert keras.utils.to_categorical([], num_classes=3).shape == (0, 3)


@pytest.mark.parametrize("y, num_classes, match", [
    ([0, 3], 3, "num_classes - 1 = 2"),
    ([0, -1], None, "label -1"),
    ([0.5, 1.0], None, "non-integer"),
    ([0.0, np.nan], None, "non-integer"),
    (["a", "b"], None, "integer class labels"),
    ([], None, "num_classes"),
])
def test_to_categorical_rejects_bad_labels(y, num_classes, match):
    with pytest.raises(ValueError, match=match):
        keras.utils.to_categorical(y, num_classes=num_classes)


# --- normalize ------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 2, np.inf])
@pytest.mark.parametrize("axis", [-1, 0])
def test_normalize_matches_numpy(order, axis):
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    out = keras.utils.normalize(x, axis=axis, order=order)
    expected = x / np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, ord=order, axis=axis), 1.0, rtol=1e-6)


def test_normalize_keeps_zero_rows_and_defaults_to_l2():
    out = keras.utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])
    assert not np.isnan(out).any()
    np.testing.assert_allclose(keras.utils.normalize([1.0, 1.0, 2.0], order=1), [0.25, 0.25, 0.5])


# --- plot_history ---------------------------------------------------------------------------

LOGS = {
    "loss": [0.9, 0.6, 0.45, 0.38, 0.35],
    "accuracy": [0.62, 0.78, 0.85, 0.88, 0.9],
    "val_loss": [0.95, 0.7, 0.6, 0.58, 0.6],
    "val_accuracy": [0.6, 0.74, 0.8, 0.81, 0.8],
}


def test_plot_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "history.png"
    fig = keras.utils.plot_history(LOGS, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, name in zip(fig.axes, ["loss", "accuracy"]):
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation"]
        train, val = ax.get_lines()
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4, 5])
        np.testing.assert_allclose(train.get_ydata(), LOGS[name])
        np.testing.assert_allclose(val.get_ydata(), LOGS["val_" + name])
        assert ax.get_xlabel() == "epoch"


def test_plot_history_takes_a_history_and_a_metric_list(tmp_path):
    pytest.importorskip("matplotlib")
    history = keras.callbacks.History()
    history.on_train_begin()
    for epoch in range(3):
        history.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "mae": 0.5, "val_loss": 0.9,
                                     "val_mae": 0.6, "lr": 0.01})
    fig = keras.utils.plot_history(history, path=tmp_path / "h.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "mae", "lr"]
    lr = fig.axes[2]
    assert [t.get_text() for t in lr.get_legend().get_texts()] == ["train"]
    fig = keras.utils.plot_history(history, path=tmp_path / "h2.png", metrics=["mae"])
    assert [ax.get_title() for ax in fig.axes] == ["mae"]
    with pytest.raises(ValueError, match="not in the history"):
        keras.utils.plot_history(history, path=tmp_path / "h3.png", metrics=["accuracy"])


def test_plot_history_lays_out_many_metrics(tmp_path):
    pytest.importorskip("matplotlib")
    logs = {name: [1.0, 0.5] for name in ["loss", "a", "b", "c"]}
    fig = keras.utils.plot_history(logs, path=tmp_path / "many.png")
    assert len(fig.axes) == 4  # a 2 x 3 grid with the two spare axes removed


def test_plot_history_without_a_path_uses_pyplot():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")  # no display in tests
    import matplotlib.pyplot as plt

    fig = keras.utils.plot_history(LOGS, metrics="loss")
    try:
        assert plt.fignum_exists(fig.number) and len(fig.axes) == 1
    finally:
        plt.close(fig)


def test_plot_history_rejects_empty_or_wrong_input(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        keras.utils.plot_history({}, path=tmp_path / "x.png")
    with pytest.raises(TypeError, match="History"):
        keras.utils.plot_history([0.5, 0.4])


def test_plot_history_says_how_to_install_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    with pytest.raises(ImportError, match=r"pip install kerasette\[plot\]"):
        keras.utils.plot_history(LOGS, path=tmp_path / "x.png")
    assert not os.path.exists(tmp_path / "x.png")
