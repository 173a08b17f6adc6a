"""Reading one member of an untrusted zip archive in bounded memory.

A zip member's sizes are fields the archive declares; nothing makes them
true. zipfile's `read` inflates a deflated member in one call, with room
for 2 GiB, and trims the result to the declared size only afterwards: a
member that declares 2,000 bytes but inflates to 2 GiB took 1.9 GB before
the CRC check failed. And a member that honestly declares 250 MiB of zeros,
stored deflated in 250 KB, cost 494 MB to read.

So a member is read here in three steps:

1. Its declared size is checked before anything is inflated: at most the
   archive's size for a member stored uncompressed (as Keras writes every
   member), and at most `max(FLOOR, ratio * archive size)` for a compressed
   one (`JSON_RATIO` for the small JSON members, `WEIGHTS_RATIO` for the
   weights). The ratio is to the whole archive, not to the member's own
   compressed size: in a real model file the weights, which hardly
   compress, make up most of the archive, so a config that compresses well
   still fits, while a small archive can never inflate to much.
2. It is inflated in chunks of `CHUNK` bytes, counting: memory stays
   within the declared size plus one chunk, and the read stops with an
   error as soon as the count passes the declared size (Python 3.11's
   zipfile already stops there and then reports the CRC mismatch; the
   count keeps the bound whatever zipfile does).
3. A member that ends before its declared size, or fails its CRC, is an
   error.

Only stored and deflated members are read: zipfile inflates bzip2 and LZMA
members without any output limit per call, and Keras never writes them.
"""

from __future__ import annotations

import io
import zipfile

from kerasette.saving.errors import ModelFileError

CHUNK = 1 << 20
FLOOR = 1 << 20  # any member may inflate to 1 MiB, whatever the archive's size
JSON_RATIO = 1  # config.json and metadata.json: at most the archive's size
WEIGHTS_RATIO = 8  # model.weights.h5: float weights deflate by ~1.1, not 8

_READABLE = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_METHODS = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}


def read_member(zf, path, name, archive_size, max_bytes=None, ratio=WEIGHTS_RATIO):
    """The bytes of member `name`, read in bounded memory.

    Args:
        zf: the open `zipfile.ZipFile`.
        path: the archive, named in errors.
        name: the member.
        archive_size: the archive's size in bytes (of the open file).
        max_bytes: a further limit on the member's size, or None.
        ratio: how many times the archive's size a compressed member may
            inflate to (above `FLOOR`).

    Returns:
        The member's bytes, exactly as many as it declares.

    Raises:
        kerasette.saving.ModelFileError: naming `path` and the member: no
            such member, declared sizes that the archive cannot hold, a
            compression method other than stored or deflated, data longer
            or shorter than declared, or a failed CRC.
    """
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ModelFileError(path, f"the archive has no {name} member.") from None
    check_declared_size(info, path, archive_size, max_bytes, ratio)
    out = io.BytesIO()  # grows to the member's size; getvalue() then shares its buffer
    try:
        with zf.open(info) as stream:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
                if out.tell() > info.file_size:
                    raise ModelFileError(path, f"member {name} inflates to more than the "
                                               f"{info.file_size} bytes it declares: the "
                                               "archive is damaged or forged; refused.")
    except ModelFileError:
        raise
    except Exception as err:  # BadZipFile (bad CRC), zlib.error, EOFError, OSError...
        raise ModelFileError(path, f"cannot read member {name} ({err}).") from err
    if out.tell() != info.file_size:
        raise ModelFileError(path, f"member {name} ends after {out.tell()} of the "
                                   f"{info.file_size} bytes it declares: the archive is "
                                   "damaged.")
    return out.getvalue()


def check_declared_size(info, path, archive_size, max_bytes=None, ratio=WEIGHTS_RATIO):
    """Raises a `ModelFileError` unless the sizes and compression method
    that the archive declares for member `info` are ones this archive can
    hold (see the module docstring); reads nothing."""
    name, size, stored = info.filename, info.file_size, info.compress_size
    if info.compress_type not in _READABLE:
        method = _METHODS.get(info.compress_type, f"method {info.compress_type}")
        raise ModelFileError(path, f"member {name} is compressed with {method}, which kerasette "
                                   "does not read (Keras stores members uncompressed). Re-zip "
                                   "it with ZIP_STORED or ZIP_DEFLATED.")
    if stored > archive_size or (info.compress_type == zipfile.ZIP_STORED
                                 and size > archive_size):
        raise ModelFileError(path, f"member {name} declares {size} bytes ({stored} stored) in "
                                   f"a {archive_size}-byte archive: the archive is damaged.")
    limit = max(FLOOR, ratio * archive_size)
    if size > limit:
        raise ModelFileError(path, f"member {name} declares {size} bytes, inflated from "
                                   f"{stored} in a {archive_size}-byte archive: more than the "
                                   f"{limit} bytes ({ratio} x the archive, at least {FLOOR}) a "
                                   f"{name} may inflate to; refused as a zip bomb. Archives "
                                   "that Keras writes store members uncompressed and always "
                                   "pass; re-zip this one with ZIP_STORED if it is genuine.")
    if max_bytes is not None and size > max_bytes:
        raise ModelFileError(path, f"member {name} declares {size} bytes, more than the "
                                   f"{max_bytes} allowed for it.")


__all__ = ["CHUNK", "FLOOR", "JSON_RATIO", "WEIGHTS_RATIO", "check_declared_size",
           "read_member"]
