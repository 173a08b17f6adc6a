"""Where the tests find their reference data, in one place.

Everything a test needs ships in the repository, under `tests/data/`:

- `KERAS`: model files, weight files and predictions written by real
  tf.keras 2.21 and Keras 3.15 (`keras/make_fixtures.py`), copied unchanged
  from `../shared/fixtures/keras/`, except the two `*_mnist_like_ref.npz`,
  cut down by `tests/data/make_small_refs.py` (see there).
- `PARITY`: training runs recorded in tf.keras, from `../shared/fixtures/parity/`.
- `KERAS2`: the functional models (`*_func_*`) of `../shared/fixtures/keras2/`,
  written by tf.keras 2.21 and Keras 3.15, copied unchanged; also its
  recurrent models (`simple_rnn`, `lstm`, `gru`, ..., `bilstm`, `masking`).
- `DATA`: the Keras 3 `.keras` archives of `make_keras3_files.py`.

MNIST is too big to ship (11 MB): tests that need it take the `mnist_npz`
fixture (conftest.py), which finds it in the data-set cache, or downloads it
there when `KERASETTE_TEST_DOWNLOAD=1`, or skips with one line saying how to
provide it. Downloads are opt-in so that a test run never waits on a network
that is not there, and never fetches 11 MB unasked.

`SHARED` is the material CI keeps beside the repository. Only the checks
that the copies here still match it read it, and they skip without it.
"""

from __future__ import annotations

import os
import socket
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from kerasette.datasets import mnist
from kerasette.utils.file_utils import kerasette_home

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
KERAS = DATA / "keras"
PARITY = DATA / "parity"
KERAS2 = DATA / "keras2"
PARITY2 = DATA / "parity2"
SHARED = Path(os.environ.get("KERASETTE_SHARED_DIR") or TESTS.parents[1] / "shared")

DOWNLOAD_VAR = "KERASETTE_TEST_DOWNLOAD"
PROBE_TIMEOUT_S = 5.0
MNIST_HOW_TO = ("run `python -c 'import kerasette; kerasette.datasets.mnist.load_data()'` "
                "once online, or set KERASETTE_HOME to a folder whose datasets/ holds mnist.npz")


def find_mnist() -> Path:
    """The data-set cache's `mnist.npz`, downloaded first if allowed.

    Returns:
        `$KERASETTE_HOME/datasets/mnist.npz` (default `~/.kerasette/...`).

    Raises:
        pytest.skip.Exception: the file is not cached and was not downloaded;
            the reason is one line saying how to provide it.
    """
    path = Path(kerasette_home()) / "datasets" / "mnist.npz"
    if path.is_file():
        return path
    if os.environ.get(DOWNLOAD_VAR) != "1":
        pytest.skip(f"MNIST is not in the data-set cache ({path}): {MNIST_HOW_TO}, "
                    f"or set {DOWNLOAD_VAR}=1 to let the tests download it")
    failure = _download_mnist()
    if failure is None and path.is_file():
        return path
    pytest.skip(f"MNIST is not in the data-set cache ({path}) and the download failed "
                f"({failure or 'saved elsewhere'}): {MNIST_HOW_TO}")


def _download_mnist() -> str | None:
    """Downloads MNIST into the cache: None when done, else why not (one line)."""
    origin = urllib.parse.urlsplit(mnist.ORIGIN)
    host = origin.hostname
    port = origin.port or (80 if origin.scheme == "http" else 443)
    # The loader retries with long timeouts, which is right for a user on a
    # slow line but would stall a test run with no network at all. Behind a
    # proxy only the proxy can tell, so the loader is left to find out.
    if not urllib.request.getproxies() and not _reachable(host, port):
        return f"cannot reach {host}"
    try:
        mnist.load_data()
    except (OSError, ValueError) as error:  # DatasetUnavailableError; a bad download
        text = " ".join(str(error).split())
        # "MNIST is not in the cache and could not be downloaded (REASON). Download ..."
        return text[text.find("(") + 1:text.find(")")] if "(" in text else text
    return None


def _reachable(host: str, port: int) -> bool:
    """Whether a TCP connection to `host` opens within `PROBE_TIMEOUT_S`."""
    opened = []

    def probe():
        try:
            with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
                opened.append(True)
        except OSError:
            pass

    # A thread, because a name lookup ignores the socket's timeout and can
    # hang far longer on a machine whose resolver gets no answer.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT_S)
    return bool(opened)
