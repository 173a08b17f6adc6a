"""The data-set cache: find a verified copy, or download one, or say how to.

Data sets live in `$KERASETTE_HOME/datasets` (default
`~/.kerasette/datasets`). A loader first looks there; a file that fails
verification is downloaded again (atomically, so the bad copy stays until a
good one replaces it). With no usable copy and no network, the loader raises
`DatasetUnavailableError` with one line that names the exact file to create
and where to get it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from kerasette.utils import file_utils
from kerasette.utils.file_utils import DownloadError

__all__ = ["DatasetUnavailableError", "cache_path", "fetch"]

# The folder that Keras's own loaders download from.
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


class DatasetUnavailableError(DownloadError):
    """A data set is neither in the cache nor downloadable.

    An `OSError` (through `DownloadError`). `str(error)` is one line naming
    the file to create and the URL to get it from.
    """

    __module__ = "kerasette.datasets"  # how tracebacks name it: the public place


def cache_path(fname: str, cache_subdir: str = "datasets", cache_dir=None) -> str:
    """Where a data-set file is cached: `$KERASETTE_HOME/<cache_subdir>/<fname>`
    (`<cache_dir>/<cache_subdir>/<fname>` when a `cache_dir` is given, as Keras)."""
    root = os.path.expanduser(os.fspath(cache_dir)) if cache_dir else file_utils.kerasette_home()
    return os.path.join(root, cache_subdir, fname)


def _sha256_check(file_hash: str, algorithm: str = "sha256") -> Callable[[str], str | None]:
    def check(path: str) -> str | None:
        digest = file_utils.hash_file(path, algorithm)
        return None if digest == file_hash else f"{algorithm} {digest}, expected {file_hash}"

    return check


def fetch(title: str, fname: str, origin: str, file_hash: str, *,
          cache_subdir: str = "datasets", check: Callable[[str], str | None] | None = None,
          how_to: str | None = None, hash_algorithm: str = "sha256", cache_dir=None) -> str:
    """The path of a verified copy of one data-set file, downloading if needed.

    Args:
        title: the data set's name for messages ("MNIST").
        fname: the file's name (or a path relative to the cache folder).
        origin: the URL to download from.
        file_hash: the hash a downloaded file must have (`hash_algorithm`).
        cache_subdir: the folder under `$KERASETTE_HOME`.
        check: `check(path)` returns None when a cached file is good, else
            why not (one line). Default: its sha256 is `file_hash`.
        how_to: what the error tells the user to do; default: download
            `origin` and save it as the cache path.
        hash_algorithm: "sha256" (default) or "md5" (Keras states md5s for
            a few small files).
        cache_dir: a folder used instead of `$KERASETTE_HOME` (Keras's
            `cache_dir`).

    Raises:
        DatasetUnavailableError: no good copy, and the download failed.
        ValueError: the download's hash is not `file_hash` (nothing saved).
    """
    check = check or _sha256_check(file_hash, hash_algorithm)
    primary = cache_path(fname, cache_subdir, cache_dir)
    candidates = [primary]
    if not file_utils._writable_dir(os.path.dirname(primary)):
        candidates.append(os.path.join(file_utils._fallback_base(), cache_subdir, fname))

    stem = f"{title} is not in the cache"
    for path in candidates:
        if os.path.isfile(path):
            why = check(path)
            if why is None:
                return path
            if path == primary:
                stem = f"{title}'s cached copy {path} failed verification ({why})"

    target = next((p for p in candidates if file_utils._writable_dir(os.path.dirname(p))), None)
    how_to = how_to or f"Download {origin} and save it as {primary}"
    advice = (f"{how_to}, or {'pass as cache_dir' if cache_dir else 'set KERASETTE_HOME to'} "
              f"a folder whose {cache_subdir.replace(os.sep, '/')}/ folder holds it.")
    if target is None:
        raise DatasetUnavailableError(
            f"{stem} and the cache folder {os.path.dirname(primary)} cannot be written. {advice}"
        )
    try:
        file_utils._download(origin, target, file_hash, hash_algorithm)
    except DownloadError as error:
        raise DatasetUnavailableError(
            f"{stem} and could not be downloaded ({_reason(error)}). {advice}"
        ) from None
    return target


def _reason(error: DownloadError) -> str:
    # "Could not download URL (reason; 3 tries)" -> "reason; 3 tries"
    text = str(error)
    start, end = text.find(" ("), text.rfind(")")
    return text[start + 2:end] if start != -1 and end > start else text
