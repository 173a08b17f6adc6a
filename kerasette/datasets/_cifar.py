"""What CIFAR-10 and CIFAR-100 share: reading their pickled batches from the archive.

Keras downloads `cifar-10-python.tar.gz` (`cifar-100-python.tar.gz`) from the
CIFAR homepage; each batch inside is a Python 2 pickle of a dict holding a
uint8 `data` array of shape `(n, 3072)` (red, green, blue planes of 32x32)
and a list of labels. kerasette keeps the archive itself in the cache (named
as Keras names its copy, `cifar-10-batches-py.tar.gz`) and reads the batches
from it in memory, never extracting files: the archive's sha256 must be the
one Keras states (checked on the bytes that are then read), and the pickles
may build nothing but containers and NumPy arrays (`_ragged`'s gate).
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zlib

import numpy as np

from kerasette.datasets import _ragged

__all__ = ["read_batches", "to_images"]


def _batch(raw: bytes, member: str, label_key: str, title: str):
    """`(data (n, 3072) uint8, labels (n,))` of one pickled batch, as Keras's `load_batch`."""
    try:
        # encoding="bytes": Python 2 strings stay bytes (the keys, the array
        # buffers), as tf.keras reads them.
        batch = _ragged.unpickle_arrays(io.BytesIO(raw), encoding="bytes")
    except (pickle.UnpicklingError, ValueError, EOFError, TypeError) as error:
        raise ValueError(f"{title}: {member} is not a readable CIFAR batch: "
                         f"{' '.join(str(error).split())}") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{title}: {member} holds a {type(batch).__name__}, not a CIFAR batch")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get(label_key)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{title}: {member}'s `data` is not a uint8 array of shape (n, 3072)")
    labels = np.asarray(labels)
    if labels.shape != (len(data),) or labels.dtype.kind not in "iu":
        raise ValueError(f"{title}: {member}'s `{label_key}` are not {len(data)} integers")
    return data.reshape(len(data), 3, 32, 32), labels


def read_batches(title: str, path, origin: str, file_hash: str, members, label_key: str,
                 cache_dir=None) -> list:
    """The batches `members` (paths inside the archive) of a verified CIFAR archive.

    Returns:
        A list of `(images (n, 3, 32, 32) uint8, labels (n,) int)`, in the
        order of `members`.

    Raises:
        DatasetUnavailableError: no good copy is cached and none could be
            downloaded; the message says where to put the file.
        ValueError: the verified archive lacks a member, or a member is not
            a CIFAR batch.
    """
    data = _ragged.fetch_verified(title, path, origin, file_hash, cache_dir)
    wanted, raw = set(members), {}
    try:
        # One pass over the stream: members are read in the archive's order.
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for info in archive:
                if info.name in wanted and info.isfile():
                    raw[info.name] = archive.extractfile(info).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{title}: not a readable CIFAR archive: {error}") from None
    del data  # the 160 MB archive: no longer needed while the batches are unpickled
    missing = [m for m in members if m not in raw]
    if missing:
        raise ValueError(f"{title}: the archive has no {', '.join(missing)}")
    return [_batch(raw.pop(m), m, label_key, title) for m in members]


def to_images(parts) -> np.ndarray:
    """Channels-first batches, joined, as Keras returns them with its default
    `image_data_format`, channels last: one contiguous `(n, 32, 32, 3)` array,
    filled batch by batch (no joined channels-first copy on the way)."""
    images = np.empty((sum(len(x) for x in parts), 32, 32, 3), dtype=np.uint8)
    start = 0
    for x in parts:
        images[start:start + len(x)] = x.transpose(0, 2, 3, 1)
        start += len(x)
    return images
