"""`get_file`: download a file once, verify it, keep it in the cache.

The cache lives in `$KERASETTE_HOME` (default `~/.kerasette`), in the
`cache_subdir` folder (default `datasets`), as Keras keeps its own in
`~/.keras/datasets`. Downloads are written to a temporary file beside the
target and renamed only once complete and verified, so an interrupted or
corrupted transfer never leaves a file where a good one is expected. A
failed connection is retried (three tries in all, waiting 1 s, then 2 s).

The network code (`urllib`) and the archive modules are imported on first
use, so `import kerasette` stays light.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import time
from pathlib import PurePosixPath, PureWindowsPath

__all__ = ["DownloadError", "extract_archive", "get_file", "hash_file", "kerasette_home",
           "validate_file"]

logger = logging.getLogger(__name__)

# Tries per download, the waits between them (seconds), and the socket
# timeout. Module attributes so that tests can shorten them.
_TRIES = 3
_RETRY_DELAYS = (1.0, 2.0)
_TIMEOUT_S = 60.0
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A file could not be downloaded (no network, server error, ...).

    `str(error)` is one line that names the URL and the reason.
    """


def kerasette_home() -> str:
    """The cache root: `$KERASETTE_HOME`, or `~/.kerasette` when unset.

    Read on every call, so setting the variable at run time takes effect.

    Example:
        >>> import os
        >>> os.path.basename(kerasette_home()) != ""
        True
    """
    return os.path.expanduser(os.environ.get("KERASETTE_HOME") or os.path.join("~", ".kerasette"))


def _fallback_base() -> str:
    # Where Keras goes when its cache folder is not writable (/tmp/.keras).
    return os.path.join(tempfile.gettempdir(), ".kerasette")


def _writable_dir(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _resolve_hasher(algorithm: str, file_hash: str | None = None):
    algorithm = (algorithm or "auto").lower()
    if algorithm == "auto":
        algorithm = "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    if algorithm not in ("sha256", "md5"):
        raise ValueError(
            f'hash_algorithm must be "auto", "sha256" or "md5". Received: hash_algorithm={algorithm!r}'
        )
    return hashlib.new(algorithm)


def hash_file(fpath, algorithm: str = "sha256", chunk_size: int = _CHUNK) -> str:
    """The hex digest of a file, read in chunks.

    Args:
        fpath: path of the file.
        algorithm: `"sha256"` (default), `"md5"`, or `"auto"` (sha256).
        chunk_size: bytes read at a time.

    Returns:
        The digest as a lowercase hex string.
    """
    hasher = _resolve_hasher("sha256" if algorithm == "auto" else algorithm)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash: str, algorithm: str = "auto", chunk_size: int = _CHUNK) -> bool:
    """Whether the file's sha256 or md5 digest is `file_hash`.

    Args:
        fpath: path of the file.
        file_hash: the expected hex digest.
        algorithm: `"auto"` (sha256 for a 64-character hash, else md5),
            `"sha256"` or `"md5"`.
        chunk_size: bytes read at a time.
    """
    hasher = _resolve_hasher(algorithm, file_hash)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest() == str(file_hash).strip().lower()


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _describe(error: BaseException) -> str:
    import urllib.error

    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}".strip()
    if isinstance(error, urllib.error.URLError):
        return _one_line(error.reason) if isinstance(error.reason, BaseException) else str(error.reason)
    return _one_line(error)


def _retryable(error: BaseException) -> bool:
    import urllib.error

    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code in (408, 429)
    return True  # refused or reset connections, timeouts, DNS failures, short reads


def _fetch_once(origin: str, tmp_path: str, desc: str, hasher) -> None:
    """One attempt: stream `origin` into `tmp_path` (truncated first)."""
    import http.client
    import urllib.request

    from tqdm import tqdm  # imported on first use: `import kerasette` stays light

    from kerasette import __version__

    request = urllib.request.Request(origin, headers={"User-Agent": f"kerasette/{__version__}"})
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.strip().isdigit() else None
        received = 0
        with open(tmp_path, "wb") as out, tqdm(
            total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
            file=sys.stderr, disable=False, leave=True, dynamic_ncols=True, mininterval=0.25,
        ) as bar:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                hasher.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
    if total is not None and received != total:
        raise http.client.IncompleteRead(b"", total - received)


def _download(origin: str, fpath: str, file_hash: str | None = None,
              hash_algorithm: str = "auto") -> str:
    """Downloads `origin` to `fpath` atomically, verifying `file_hash`.

    Retries failed connections; a hash mismatch is not retried. On any
    failure the temporary file is removed and `fpath` is left as it was.

    Raises:
        DownloadError: the file could not be fetched after all tries.
        ValueError: it was fetched but its hash is not `file_hash`.
    """
    folder = os.path.dirname(os.path.abspath(fpath))
    os.makedirs(folder, exist_ok=True)
    name = os.path.basename(fpath)
    print(f"Downloading data from {origin}", flush=True)
    last_error: BaseException | None = None
    made = 0
    for attempt in range(_TRIES):
        if attempt:
            delay = _RETRY_DELAYS[min(attempt - 1, len(_RETRY_DELAYS) - 1)] if _RETRY_DELAYS else 0
            logger.info("Download of %s failed (%s); trying again in %s s (try %d of %d)",
                        origin, _describe(last_error), delay, attempt + 1, _TRIES)
            time.sleep(delay)
        made += 1
        hasher = _resolve_hasher(hash_algorithm, file_hash) if file_hash is not None else None
        fd, tmp_path = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
        os.close(fd)
        try:
            _fetch_once(origin, tmp_path, name, hasher or hashlib.sha256())
            if hasher is not None and hasher.hexdigest() != str(file_hash).strip().lower():
                raise ValueError(
                    f"Incomplete or corrupted file downloaded from {origin}: its "
                    f"{hasher.name} is {hasher.hexdigest()}, expected {file_hash}. "
                    "Nothing was saved."
                )
            os.chmod(tmp_path, 0o644)  # mkstemp makes 0600 files
            os.replace(tmp_path, fpath)
            return fpath
        except ValueError:
            _remove(tmp_path)
            raise
        except BaseException as error:
            _remove(tmp_path)
            if hasattr(error, "close"):  # an HTTPError holds the open response
                error.close()
            if not isinstance(error, Exception):
                raise  # KeyboardInterrupt, SystemExit
            last_error = error
            if not _retryable(error):
                break
    tries = "1 try" if made == 1 else f"{made} tries"
    raise DownloadError(f"Could not download {origin} ({_describe(last_error)}; {tries})")


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# --- archives ---------------------------------------------------------------------------


def _unsafe_name(name: str) -> str | None:
    """Why a member name may not be extracted, or None when it is safe."""
    if not name:
        return "an empty name"
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() or \
            PureWindowsPath(name).drive or name.startswith(("/", "\\")):
        return "an absolute path"
    if ".." in PureWindowsPath(name).parts or ".." in PurePosixPath(name).parts:
        return "a '..' component"
    return None


def _inside(base: str, path: str) -> bool:
    base = os.path.realpath(base)
    target = os.path.realpath(os.path.join(base, path))
    return os.path.commonpath([base, target]) == base


def _check_members(archive_path: str, base: str, members) -> None:
    """Raises ValueError naming the first member that could escape `base`."""
    for name, link, kind in members:
        why = _unsafe_name(name)
        if why is None and not _inside(base, name):
            why = "a path outside the extraction folder"
        if why is None and kind == "symlink":
            target = os.path.join(os.path.dirname(name), link)
            if _unsafe_name(link) == "an absolute path" or not _inside(base, target):
                why = f"a link to {link!r} outside the extraction folder"
        if why is None and kind == "hardlink" and (_unsafe_name(link) or not _inside(base, link)):
            why = f"a link to {link!r} outside the extraction folder"
        if why is None and kind == "special":
            why = "a device or fifo entry"
        if why is not None:
            raise ValueError(
                f"Refusing to extract {archive_path}: member {name!r} has {why}. "
                "Nothing was extracted."
            )


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extracts a tar (`.tar`, `.tar.gz`, `.tgz`, `.tar.bz2`, ...) or zip archive.

    Every member is checked before anything is written: a member with an
    absolute path, a `..` component, or a link pointing outside `path` makes
    the whole extraction fail with a `ValueError`.

    Args:
        file_path: the archive.
        path: the folder to extract into (created if needed).
        archive_format: `"auto"` (tar, then zip), `"tar"`, `"zip"`, a list
            of those, or None (extract nothing).

    Returns:
        True when the file was a matching archive and was extracted, False
        when it matched none of the formats.
    """
    import tarfile
    import zipfile

    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in archive_format:
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                infos = archive.getmembers()
                _check_members(file_path, path, [
                    (i.name, i.linkname,
                     "symlink" if i.issym() else "hardlink" if i.islnk()
                     else "special" if not (i.isfile() or i.isdir()) else "file")
                    for i in infos
                ])
                os.makedirs(path, exist_ok=True)
                if hasattr(tarfile, "data_filter"):  # Python 3.12, 3.11.4, 3.10.12 and later
                    archive.extractall(path, members=infos, filter="data")
                else:
                    archive.extractall(path, members=infos)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                _check_members(file_path, path, [(n, "", "file") for n in archive.namelist()])
                os.makedirs(path, exist_ok=True)
                archive.extractall(path)
            return True
        if kind not in ("tar", "zip"):
            raise ValueError(
                f'archive_format must be "auto", "tar", "zip", a list of those, or None. '
                f"Received: {kind!r}"
            )
    return False


# --- get_file ---------------------------------------------------------------------------


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False) -> str:
    """Downloads a file from a URL unless it is already in the cache.

    tf.keras 2's `get_file`: the file from `origin` is saved as
    `<cache_dir>/<cache_subdir>/<fname>`, by default
    `~/.kerasette/datasets/<fname>` (`$KERASETTE_HOME` replaces
    `~/.kerasette`). A cached file is used as it is, unless `file_hash` is
    given and does not match, in which case it is downloaded again.

    The download shows a tqdm progress bar, is retried after a failed
    connection (three tries, waiting 1 s then 2 s), is verified against
    `file_hash`, and is written to a temporary file renamed into place only
    when complete and verified.

    Args:
        fname: the file's name in the cache; an absolute path puts it there.
            None uses the last part of `origin`'s path.
        origin: the URL.
        untar: deprecated in favour of `extract`: the file is a `.tar.gz`
            archive saved as `<fname>.tar.gz` and extracted in the cache
            folder; returns the path without `.tar.gz`.
        md5_hash: deprecated in favour of `file_hash`: an md5 digest.
        file_hash: the expected sha256 or md5 hex digest of the file.
        cache_subdir: the folder under the cache root; an absolute path is
            used as it is.
        hash_algorithm: `"auto"` (sha256 for a 64-character hash, else md5),
            `"sha256"` or `"md5"`.
        extract: extract the archive (tar, tar.gz, tar.bz2, zip) into the
            cache folder, beside it. Members with absolute paths, `..`
            components or links outside the folder are refused (ValueError).
        archive_format: `"auto"`, `"tar"`, `"zip"`, a list, or None.
        cache_dir: the cache root; default `$KERASETTE_HOME` or
            `~/.kerasette`. If it cannot be written, `<tmp>/.kerasette` is
            used, as Keras falls back to `/tmp/.keras`.
        force_download: download even when a cached copy exists (Keras 3).

    Returns:
        The path of the local file (with `untar`, of the extracted folder).

    Raises:
        DownloadError: (an `OSError`) the file is not cached and could not
            be downloaded.
        ValueError: the downloaded file's hash is not `file_hash` (nothing
            is saved), or an archive member would land outside the folder.

    Example:
        A local file stands in for a web server here; the cache is `./cache`.

        >>> import pathlib
        >>> _ = pathlib.Path("hello.txt").write_text("hello")
        >>> sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        >>> path = get_file("hello.txt", origin=pathlib.Path("hello.txt").resolve().as_uri(),
        ...                 file_hash=sha256, cache_dir="cache")
        Downloading data from file://...hello.txt
        >>> pathlib.Path(path).as_posix()
        'cache/datasets/hello.txt'
        >>> pathlib.Path(path).read_text()
        'hello'
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if file_hash is not None:
        _resolve_hasher(hash_algorithm, file_hash)  # reject a bad algorithm before any work

    fname = os.fspath(fname) if fname is not None else None
    if not fname:
        from urllib.parse import urlsplit

        fname = os.path.basename(urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: {origin!r}. "
                "Please specify the `fname` argument."
            )
    untar_name = None
    if untar:
        untar_name = fname.removesuffix(".tar.gz")
        fname = untar_name + ".tar.gz"

    base = os.path.expanduser(os.fspath(cache_dir)) if cache_dir is not None else kerasette_home()
    candidates = [os.path.join(base, cache_subdir)]
    if not _writable_dir(candidates[0]):
        candidates.append(os.path.join(_fallback_base(), cache_subdir))

    fpath = None
    if not force_download:
        for datadir in candidates:
            path = os.path.join(datadir, fname)
            if os.path.isfile(path):
                if file_hash is None or validate_file(path, file_hash, hash_algorithm):
                    fpath = path
                    break
                print(
                    f"A local file was found at {path}, but its "
                    f"{_resolve_hasher(hash_algorithm, file_hash).name} hash does not match "
                    f"{file_hash}; downloading it again.",
                    file=sys.stderr,
                )
    if fpath is None:
        datadir = candidates[-1]
        if not _writable_dir(datadir):
            raise DownloadError(f"Cannot write to the cache folder {datadir} to download {origin}")
        fpath = _download(origin, os.path.join(datadir, fname), file_hash, hash_algorithm)

    datadir = os.path.dirname(fpath)
    if untar:
        untar_fpath = os.path.join(datadir, untar_name)
        if not os.path.exists(untar_fpath):
            extract_archive(fpath, datadir, archive_format="tar")
        return untar_fpath
    if extract:
        extract_archive(fpath, datadir, archive_format)
    return fpath
