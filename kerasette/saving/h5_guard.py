"""Reading HDF5 files that may be damaged, without hanging, crashing or
allocating gigabytes.

The HDF5 library trusts some of the bytes it reads. `tests/test_fuzz_files.py`
found three such places:

* A global heap collection (where variable-length strings live, such as
  `model_config` and the `layer_names`/`weight_names` lists) whose object
  list was zeroed makes HDF5's heap parser loop forever, in C code that no
  Python timeout can interrupt.
* A local heap (where a group keeps its link names) whose free list is a
  cycle makes HDF5 follow it forever.
* A string's length is stored next to its heap address, in the attribute.
  HDF5 allocates and clears a buffer of that length (up to 4 GiB per
  string) before it looks at the heap, then copies the heap object into it
  without comparing their sizes.

So `H5Reader` checks what HDF5 will trust, reading only metadata. Right
after opening, it walks the groups from the root and follows each group's
local heap free list as HDF5 will, before the group's links are used (if
the walk meets damage, it scans the whole file for local heaps instead).
Before a variable-length string attribute is read, it finds the
attribute's message in its object header, walks the global heap
collection each string points to as HDF5 will, and checks that each
string's stored length equals the size of its heap object. Fixed-size
attributes and datasets are checked against size limits before they are
read.

Every error h5py raises on the way becomes a `ModelFileError` naming the file.
"""

from __future__ import annotations

import io
import mmap
import os
import struct

import numpy as np

from kerasette.saving.errors import ModelFileError

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_U64 = 1 << 64

# What h5py and HDF5 raise for damaged files: OSError for most, RuntimeError
# for failed B-tree and heap lookups, KeyError for missing links,
# ValueError/TypeError for unreadable types and shapes, IndexError and
# OverflowError for broken lengths, AttributeError for a group where a
# dataset belongs.
H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError,
             OverflowError, AttributeError)

# Far above anything Keras writes (a 1000-layer model_config is about 1 MB).
MAX_ATTRIBUTE_BYTES = 64 << 20

_MSG_ATTRIBUTE = 0x000C
_MSG_CONTINUATION = 0x0010
_MSG_SYMBOL_TABLE = 0x0011
_GROUP_MESSAGES = (0x0002, 0x0006, _MSG_SYMBOL_TABLE)  # link info, link, symbol table
_CLASS_VLEN = 9
_MAX_CHUNKS = 256  # continuation chunks followed per object header (cycles)


def _h5py():
    import h5py  # a runtime dependency, imported when files are touched

    return h5py


def _uint(view, at, size):
    """A little-endian unsigned integer, or None past the end of `view`."""
    if at < 0 or at + size > len(view):
        return None
    return int.from_bytes(view[at:at + size], "little")


def _align8(n):
    return (n + 7) // 8 * 8


# -- the superblock -------------------------------------------------------------------


class _Layout:
    """What the superblock says about addresses: where address 0 is and how
    wide offsets and lengths are. Defaults when no superblock is found (h5py
    then refuses the file anyway)."""

    def __init__(self, view):
        self.base, self.sizeof_addr, self.sizeof_len = 0, 8, 8
        at = 0
        while at + 16 <= len(view):
            if view[at:at + 8] == _HDF5_MAGIC:
                self._parse(view, at)
                return
            at = 512 if at == 0 else at * 2  # where HDF5 looks for it

    def _parse(self, view, at):
        version = view[at + 8]
        if version < 2:  # sizes at bytes 13/14; base address after 24 (v0) or 28 (v1) bytes
            sizes, base_at = at + 13, at + (24 if version == 0 else 28)
        else:
            sizes, base_at = at + 9, at + 12
        addr, length = view[sizes], view[sizes + 1]
        if addr in (2, 4, 8) and length in (2, 4, 8):
            self.sizeof_addr, self.sizeof_len = addr, length
        base = _uint(view, base_at, self.sizeof_addr)
        self.base = base if base is not None and base <= len(view) else at


# -- global heap collections ----------------------------------------------------------


def _walk_heap(view, start, sizeof_len):
    """Walks the collection at `start` as H5HG__cache_heap_deserialize does.

    Returns:
        `{index: (data offset, size)}` of the objects lying wholly inside
        the collection, or None if HDF5's walk would never end (an object
        of index 0 and size 0, or a size that wraps C's arithmetic).
    """
    header = 8 + sizeof_len  # "GCOL", version, 3 reserved, collection size
    obj_header = 8 + sizeof_len  # index (2), refcount (2), reserved (4), size
    size = _uint(view, start + 8, sizeof_len)
    if size is None:
        return {}
    end = start + size
    p, objects = start + header, {}
    while p < end:
        if p + obj_header > end:
            break  # the tail is free space
        index = _uint(view, p, 2)
        obj_size = _uint(view, p + 8, sizeof_len)
        if index is None or obj_size is None:
            break  # past the end of the file: HDF5 fails to read it
        need = obj_size if index == 0 else obj_header + _align8(obj_size)
        need %= _U64  # size_t arithmetic, as in C
        if need == 0 or need >= _U64 // 2:
            return None
        if index and p + obj_header + obj_size <= min(end, len(view)):
            objects[index] = (p + obj_header, obj_size)
        elif index:
            objects.pop(index, None)  # runs past its collection: unreadable
        p += need
    return objects


def _is_collection(view, at):
    """Whether HDF5 accepts a global heap collection at `at` (its signature
    and version: the checks H5HG makes before walking it)."""
    return view[at:at + 4] == b"GCOL" and view[at + 4:at + 5] == b"\x01"


def _free_list_loops(view, at, layout):
    """True if the free list of the local heap at `at` (the heap of a
    group's link names) is a cycle. HDF5 (H5HL__fl_deserialize) follows it
    without remembering where it has been, so a cycle loops forever."""
    sizeof_len = layout.sizeof_len
    size = _uint(view, at + 8, sizeof_len)
    block = _uint(view, at + 8 + sizeof_len, sizeof_len)
    data = _uint(view, at + 8 + 2 * sizeof_len, layout.sizeof_addr)
    if size is None or block is None or data is None:
        return False
    data += layout.base
    seen = set()
    while block != 1:  # H5HL_FREE_NULL
        if block >= size or block in seen:
            return block in seen  # past the end: HDF5 reports an error
        seen.add(block)
        following = _uint(view, data + block, sizeof_len)
        length = _uint(view, data + block + sizeof_len, sizeof_len)
        if not following or length is None or block + length > size:
            return False  # HDF5 reports these as errors
        block = following
    return False


def _find_looping_local_heap(view, layout):
    """Offset of the first local heap in the file whose free list loops
    (a scan of all the bytes), or None."""
    at = view.find(b"HEAP")
    while at != -1:
        if at + 4 < len(view) and view[at + 4] == 0 and _free_list_loops(view, at, layout):
            return at
        at = view.find(b"HEAP", at + 1)
    return None


def _object_address(stat):
    """The object header address in an `h5g.get_objinfo` result: HDF5 splits
    it over two C unsigned longs (4 bytes each on Windows)."""
    low, high = stat.objno
    return low + (high << (8 * struct.calcsize("L")))


def _links(location):
    """(name, link type, target address) of each link of an open group, in
    one pass (H5Literate; listing by index would be quadratic)."""
    links = []

    def add(name, info):  # h5py reuses `info` between calls: copy it now
        links.append((name, info.type, info.u))

    location.links.iterate(add, info=True)
    return links


def _group_heap(view, at, layout):
    """The local heap address in the symbol table message of the object
    header at `at` (an old-style group), or None."""
    for kind, data, size in _messages(view, at, layout):
        if kind == _MSG_SYMBOL_TABLE and size >= 2 * layout.sizeof_addr:
            return _uint(view, data + layout.sizeof_addr, layout.sizeof_addr)
    return None


# -- object headers and attribute messages --------------------------------------------


def _messages_v1(view, at, layout):
    """(type, data offset, size) of each message of a version-1 object header."""
    first = _uint(view, at + 8, 4)
    if first is None:
        return
    chunks, seen = [(at + 16, first)], set()
    while chunks and len(seen) < _MAX_CHUNKS:
        start, length = chunks.pop(0)
        if start in seen:
            continue
        seen.add(start)
        p, end = start, min(start + length, len(view))
        while p + 8 <= end:
            kind, size = _uint(view, p, 2), _uint(view, p + 2, 2)
            data = p + 8
            if data + size > end:
                break
            if kind == _MSG_CONTINUATION:
                cont = _continuation(view, data, layout)
                if cont:
                    chunks.append(cont)
            yield kind, data, size
            p = data + size


def _messages_v2(view, at, layout):
    """(type, data offset, size) of each message of a version-2 ("OHDR") header."""
    flags = view[at + 5] if at + 5 < len(view) else 0
    p = at + 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
    width = 1 << (flags & 0x03)
    first = _uint(view, p, width)
    if first is None:
        return
    chunks, seen = [(p + width, first)], set()
    while chunks and len(seen) < _MAX_CHUNKS:
        start, length = chunks.pop(0)
        if start in seen:
            continue
        seen.add(start)
        p, end = start, min(start + length, len(view))
        header = 6 if flags & 0x04 else 4  # type, size, flags[, creation order]
        while p + header <= end:
            kind, size = view[p], _uint(view, p + 1, 2)
            data = p + header
            if data + size > end:
                break
            if kind == _MSG_CONTINUATION:
                cont = _continuation(view, data, layout)
                if cont:  # "OCHK" signature before, checksum after the messages
                    chunks.append((cont[0] + 4, cont[1] - 8))
            yield kind, data, size
            p = data + size


def _continuation(view, data, layout):
    offset = _uint(view, data, layout.sizeof_addr)
    length = _uint(view, data + layout.sizeof_addr, layout.sizeof_len)
    if offset is None or length is None:
        return None
    return layout.base + offset, length


def _messages(view, at, layout):
    if view[at:at + 4] == b"OHDR":
        return _messages_v2(view, at, layout) if view[at + 4:at + 5] == b"\x02" else iter(())
    if view[at:at + 1] == b"\x01":
        return _messages_v1(view, at, layout)
    return iter(())


def _attribute_parts(view, data, size, name):
    """(datatype, dataspace, raw data) slices of the attribute message at
    `data` if it is the attribute `name`; else None."""
    msg = view[data:data + size]
    if len(msg) < 8:
        return None
    version = msg[0]
    name_size, type_size, space_size = (int.from_bytes(msg[i:i + 2], "little")
                                        for i in (2, 4, 6))
    if version == 1:
        pad, p = _align8, 8
    elif version in (2, 3):
        if msg[1] & 0x03:  # datatype or dataspace shared: not followed here
            return None
        pad, p = (lambda n: n), (8 if version == 2 else 9)
    else:
        return None
    if msg[p:p + name_size].rstrip(b"\0") != name:
        return None
    p += pad(name_size)
    dtype = msg[p:p + type_size]
    p += pad(type_size)
    space = msg[p:p + space_size]
    p += pad(space_size)
    return dtype, space, msg[p:]


def _element_count(space, sizeof_len):
    """Elements in a dataspace message; None if it cannot be read."""
    if len(space) < 4:
        return None
    version, rank = space[0], space[1]
    if version == 1:
        dims_at = 8
    elif version == 2:
        if space[3] == 2:  # null dataspace
            return 0
        dims_at = 4
    else:
        return None
    count = 1
    for i in range(rank):
        dim = _uint(space, dims_at + i * sizeof_len, sizeof_len)
        if dim is None:
            return None
        count *= dim
    return count


# -- the reader -----------------------------------------------------------------------


class H5Reader:
    """An HDF5 file opened read-only for loading, with the checks above.

    Use as a context manager; `file` is the `h5py.File`.

    Args:
        source: a file path, or the `bytes` of an HDF5 file (e.g. a member
            of a `.keras` zip).
        path: the file named in error messages.
        member: the archive member `source` holds, for error messages.

    Raises:
        ModelFileError: the file is not HDF5, is damaged in a way HDF5
            reports on opening, or would make HDF5 hang.
    """

    def __init__(self, source, path, member=None):
        self.path = path
        self._what = f"member {member}" if member else "HDF5 file"
        self._fh = self._map = None
        self.file = None
        try:
            self._view = self._open_view(source)
            self._layout = _Layout(self._view)
            self._collections = {}  # file offset: objects, walked when first used
            self._walked_all = False
            target = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
            self.file = _h5py().File(target, "r")  # reads no group's links yet
            self._check_local_heaps()
        except ModelFileError:
            self.close()
            raise
        except H5_ERRORS as err:
            self.close()
            prefix = f"{member} is not" if member else "not"
            raise ModelFileError(path, f"{prefix} a readable HDF5 file ({err})") from err

    # -- local heaps -------------------------------------------------------------------

    def _check_local_heaps(self):
        """Follows the free list of every group's local heap before any of
        the group's links is used: walking from the root, each group's heap
        is checked before its links are listed, and a link's target is
        recognised as a group from its object header, so only metadata is
        read. If the walk meets damage (a group that cannot be listed or
        opened), every local heap in the file is checked instead, by a scan
        of all its bytes."""
        h5py = _h5py()
        root = _object_address(h5py.h5g.get_objinfo(self.file["/"].id, b"."))
        seen, stack = set(), [(self.file.id, root)]
        try:
            while stack:
                location, addr = stack.pop()
                if addr in seen:
                    continue
                seen.add(addr)
                self._check_heap_of(addr)  # before the links are listed
                for name, kind, target in _links(location):
                    if kind == h5py.h5l.TYPE_HARD and self._is_group(target):
                        stack.append((h5py.h5g.open(location, name), target))
        except ModelFileError:
            raise
        except H5_ERRORS:
            looping = _find_looping_local_heap(self._view, self._layout)
            if looping is not None:
                self._refuse_heap(looping)

    def _is_group(self, addr):
        """Whether the object header at `addr` is a group's (it has a symbol
        table, link info or link message)."""
        return any(kind in _GROUP_MESSAGES for kind, _, _ in
                   _messages(self._view, self._layout.base + addr, self._layout))

    def _check_heap_of(self, addr):
        heap = _group_heap(self._view, self._layout.base + addr, self._layout)
        if heap is not None:
            at = self._layout.base + heap
            if _free_list_loops(self._view, at, self._layout):
                self._refuse_heap(at)

    def _refuse_heap(self, at):
        raise ModelFileError(self.path, f"damaged {self._what}: the free list of the HDF5 "
                                        f"local heap at byte {at} is a cycle.")

    def _open_view(self, source):
        if isinstance(source, (bytes, bytearray)):
            return source if isinstance(source, bytes) else bytes(source)  # bytes: no copy
        self._fh = open(source, "rb")  # noqa: SIM115 - held open for the map, closed in close()
        if os.fstat(self._fh.fileno()).st_size == 0:
            return b""  # nothing to map; h5py refuses an empty file
        self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map

    def close(self):
        """Closes the h5py file and the mapping."""
        for thing in (self.file, self._map, self._fh):
            if thing is not None:
                thing.close()
        self.file = self._map = self._fh = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- attributes ------------------------------------------------------------------

    def attr(self, obj, name, max_bytes=MAX_ATTRIBUTE_BYTES):
        """`obj.attrs[name]`, read only after its size is checked.

        Raises:
            KeyError: no such attribute (as h5py raises it).
            ModelFileError: the attribute is damaged or over `max_bytes`.
        """
        attr = obj.attrs.get_id(name)
        count = int(np.prod(attr.shape, dtype=np.int64)) if attr.shape else 1
        dtype = attr.dtype
        if _h5py().check_string_dtype(dtype) is not None and \
                _h5py().check_string_dtype(dtype).length is None:
            self._check_strings(obj, name, count, max_bytes)
        elif dtype.kind == "O" or dtype.hasobject:
            raise ModelFileError(self.path, f"attribute {name!r} has an unexpected "
                                            f"variable-length type ({dtype}).")
        elif count * dtype.itemsize > max_bytes:
            raise ModelFileError(self.path, f"attribute {name!r} declares "
                                            f"{count * dtype.itemsize} bytes; refused.")
        return obj.attrs[name]

    def _check_strings(self, obj, name, count, max_bytes):
        """Checks the stored lengths of a variable-length string attribute
        against its heap objects, before HDF5 allocates buffers for them."""
        parts = self._find_attribute(obj, name)
        if parts is None:
            # Stored where this parser does not look (dense attribute storage):
            # at least make sure that no heap collection would hang HDF5.
            self._walk_all_collections()
            return
        dtype, space, raw = parts
        if not dtype or dtype[0] & 0x0F != _CLASS_VLEN:
            raise ModelFileError(self.path, f"attribute {name!r}: damaged datatype.")
        elem = 8 + self._layout.sizeof_addr  # length (4), heap address, object index (4)
        stored = _element_count(space, self._layout.sizeof_len)
        if stored != count or len(raw) < count * elem:
            raise ModelFileError(self.path, f"attribute {name!r}: damaged dataspace or data.")
        total = 0
        for i in range(count):
            at = i * elem
            length = _uint(raw, at, 4)
            heap = _uint(raw, at + 4, self._layout.sizeof_addr)
            index = _uint(raw, at + 4 + self._layout.sizeof_addr, 4)
            if heap == 0:
                continue  # a null string: nothing is read
            objects = self._collection(self._layout.base + heap)
            found = objects.get(index) if objects is not None else None
            if found is None or found[1] != length:
                raise ModelFileError(self.path, f"attribute {name!r}: string {i} does not "
                                                "match the heap object it points to (damaged "
                                                "file).")
            total += length
        if total > max_bytes:
            raise ModelFileError(self.path, f"attribute {name!r} holds {total} bytes; "
                                            f"refused (the limit is {max_bytes}).")

    def _collection(self, at):
        """The objects of the global heap collection at file offset `at`
        (None if there is none), refusing one HDF5 would loop on."""
        if at not in self._collections:
            objects = None
            if _is_collection(self._view, at):
                objects = _walk_heap(self._view, at, self._layout.sizeof_len)
                if objects is None:
                    raise ModelFileError(self.path, f"damaged {self._what}: the HDF5 global "
                                                    f"heap at byte {at} is corrupt (its object "
                                                    "list does not advance).")
            self._collections[at] = objects
        return self._collections[at]

    def _walk_all_collections(self):
        """Walks every global heap collection in the file (once)."""
        if self._walked_all:
            return
        at = self._view.find(b"GCOL")
        while at != -1:
            self._collection(at)
            at = self._view.find(b"GCOL", at + 1)
        self._walked_all = True

    def _find_attribute(self, obj, name):
        h5py = _h5py()
        oid = obj["/"].id if isinstance(obj, h5py.File) else obj.id
        at = self._layout.base + _object_address(h5py.h5g.get_objinfo(oid, b"."))
        key = name.encode("utf8")
        for kind, data, size in _messages(self._view, at, self._layout):
            if kind == _MSG_ATTRIBUTE:
                parts = _attribute_parts(self._view, data, size, key)
                if parts is not None:
                    return parts
        return None

    def names(self, obj, key):
        """A name-list attribute (`layer_names`, `weight_names`), whole or
        chunked (`key0`, `key1`, ...), as a list of str."""
        if key in obj.attrs:
            raw = [self.attr(obj, key)]
        else:
            raw, i = [], 0
            while f"{key}{i}" in obj.attrs:
                raw.append(self.attr(obj, f"{key}{i}"))
                i += 1
        out = []
        for part in raw:
            for n in np.asarray(part).ravel():
                if isinstance(n, (float, np.floating)):
                    continue  # Keras writes an empty list as float64 (0,)
                out.append(n.decode("utf8") if hasattr(n, "decode") else str(n))
        return out

    def json_attr(self, obj, name):
        """The text of a JSON attribute (`model_config`), size-checked."""
        raw = self.attr(obj, name)
        if isinstance(raw, np.ndarray) and raw.shape == ():
            raw = raw[()]
        if isinstance(raw, bytes):
            raw = raw.decode("utf8")
        return raw

    # -- datasets ----------------------------------------------------------------------

    def dataset(self, group, name, max_elements):
        """`group[name]`, checked to be a numeric dataset of at most
        `max_elements` elements (not yet read)."""
        obj = group[name]
        if not isinstance(obj, _h5py().Dataset):
            raise ModelFileError(self.path, f"{obj.name!r} is not a dataset.")
        if not (np.issubdtype(obj.dtype, np.number) or obj.dtype == np.bool_):
            raise ModelFileError(self.path, f"{obj.name!r} is stored as {obj.dtype}, "
                                            "not as numbers.")
        if obj.size > max_elements:
            raise ModelFileError(self.path, f"{obj.name!r} declares {obj.shape}, more than "
                                            "the model could hold; refused.")
        return obj
