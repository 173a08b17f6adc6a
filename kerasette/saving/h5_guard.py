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

Crafted files found more (issue 16): a group B-tree node that lists an
ancestor as its child makes HDF5 recurse until the stack overflows; two
local heaps given one data block crash HDF5's metadata cache (one entry per
address); overlapping structures make every walk over them quadratic.

So `H5Reader` checks what HDF5 will trust, reading only metadata. Right
after opening, it walks every object from the root, before h5py uses any:

* each group's local heap free list and B-tree are followed as HDF5 will,
  before the group's links are listed;
* each link must be a hard link (`h5_layout`: an external link would open
  another file);
* each dataset's storage must be what Keras writes: contiguous, unfiltered,
  inside this file (`h5_layout`: external storage and virtual datasets
  read other files, a damaged chunk index or filter can crash HDF5), which
  also bounds the values the file holds (`stored_elements`);
* a group or dataset HDF5 cannot open or list refuses the whole file, since
  what lies behind it could not be checked.

Before a variable-length string attribute is read, it finds the
attribute's message in its object header, walks the global heap
collection each string points to as HDF5 will, and checks that each
string's stored length equals the size of its heap object. Fixed-size
attributes and datasets are checked against size limits before they are
read.

Every check is linear in the file's size: each object header (with its
continuation chunks), local heap, group B-tree node and global heap
collection is parsed at most once (`h5_structures`), before HDF5 reads it,
and all of them together may take at most `h5_structures.Steps.per_byte`
steps per byte of the file. A file whose structures overlap (thousands of headers continuing into one
region, heaps sharing a free list) or go round in circles is refused when
the steps run out; HDF5's own work on what it was allowed to read is
bounded the same way. Structures at one address are refused at once
(`_claim`): HDF5's metadata cache crashes on them.

Every error h5py raises on the way becomes a `ModelFileError` naming the file.
"""

from __future__ import annotations

import io
import mmap
import os
import struct

import numpy as np

from kerasette.saving import h5_layout
from kerasette.saving import h5_structures as hs
from kerasette.saving.errors import ModelFileError
from kerasette.saving.sources import open_regular

# What h5py and HDF5 raise for damaged files: OSError for most, RuntimeError
# for failed B-tree and heap lookups, KeyError for missing links,
# ValueError/TypeError for unreadable types and shapes, IndexError and
# OverflowError for broken lengths, AttributeError for a group where a
# dataset belongs.
H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError,
             OverflowError, AttributeError)

# Far above anything Keras writes (a 1000-layer model_config is about 1 MB).
MAX_ATTRIBUTE_BYTES = 64 << 20


def _h5py():
    import h5py  # a runtime dependency, imported when files are touched

    return h5py


def _object_address(stat):
    """The object header address in an `h5g.get_objinfo` result: HDF5 splits
    it over two C unsigned longs (4 bytes each on Windows)."""
    low, high = stat.objno
    return low + (high << (8 * struct.calcsize("L")))


def _links(location, steps):
    """(name, link type, target address) of each link of an open group, in
    one pass (H5Literate; listing by index would be quadratic), one of
    `steps` each."""
    links = []

    def add(name, info):  # h5py reuses `info` between calls: copy it now
        if not steps.spend():
            return True  # stops the iteration (an exception would not pass through HDF5)
        links.append((name, info.type, info.u))
        return None

    location.links.iterate(add, info=True)
    steps.take(0)  # refuses the file here if the steps ran out
    return links


# -- the reader -----------------------------------------------------------------------


class H5Reader:
    """An HDF5 file opened read-only for loading, with the checks above.

    Use as a context manager; `file` is the `h5py.File`.

    Args:
        source: a file path, or the `bytes` of an HDF5 file (e.g. a member
            of a `.keras` zip). A path must name a regular file (else
            `ModelFileError`, before anything could block); it is opened
            once, and HDF5 reads through that descriptor.
        path: the file named in error messages.
        member: the archive member `source` holds, for error messages.

    Attributes:
        stored_elements: the values all datasets of the file hold together
            (each one's data checked to lie in the file), which bounds the
            weights a model rebuilt from the file may need.

    Raises:
        ModelFileError: the file is not HDF5, is damaged in a way HDF5
            reports on opening, would make HDF5 hang, holds a link other
            than a hard link, or a dataset stored otherwise than Keras
            stores weights (`h5_layout`).
    """

    def __init__(self, source, path, member=None):
        self.path = path
        self._what = f"member {member}" if member else "HDF5 file"
        self._where = f"{member}: " if member else ""
        self._fh = self._map = None
        self.file = None
        self.stored_elements = self._stored_bytes = 0
        try:
            self._view = self._open_view(source)
            self._layout = hs.Layout(self._view)
            self._steps = hs.Steps(len(self._view), self._refuse_steps)
            self._headers = {}  # file offset: messages, parsed when first used
            self._heaps = set()  # local heaps whose free list was followed
            self._tree_nodes = set()  # group B-tree nodes walked
            self._claims = {}  # file offset: the HDF5 structure there (`_claim`)
            self._collections = {}  # file offset: objects, walked when first used
            self._walked_all = False
            # A path is read through the descriptor the guard mapped (h5py's
            # file-object driver), never opened again: what HDF5 reads is
            # what was checked, and could not be swapped for a FIFO.
            target = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else self._fh
            if self._layout.root is not None:
                self._header(self._layout.root)  # parsed (and paid for) before HDF5 does
            self.file = _h5py().File(target, "r")  # reads no group's links yet
            self._check_objects()
        except ModelFileError:
            self.close()
            raise
        except H5_ERRORS as err:
            self.close()
            prefix = f"{member} is not" if member else "not"
            raise ModelFileError(path, f"{prefix} a readable HDF5 file ({err})") from err

    # -- every object, before h5py uses any ----------------------------------------

    def _check_objects(self):
        """Walks every object the file's links reach, from the root: each
        group's local heap is checked before its links are listed, each
        link must be a hard link, and each dataset is checked by
        `_check_dataset`. Only metadata is read. A group HDF5 cannot list
        or open refuses the file: what is behind it was not checked."""
        h5py = _h5py()
        where = "/"  # what is being read, for the error
        link_kinds = {h5py.h5l.TYPE_SOFT: "soft", h5py.h5l.TYPE_EXTERNAL: "external"}
        try:
            root = _object_address(h5py.h5g.get_objinfo(self.file["/"].id, b"."))
            # (the group's parent and name, or its open id; address; path)
            seen, stack = {root}, [(self.file.id, None, root, "/")]
            while stack:
                location, name, addr, group = stack.pop()
                where = group
                if name is not None:  # opened only now: few groups are open at once
                    location = h5py.h5g.open(location, name)
                self._check_group(addr, group)  # before its links are listed
                prefix = group.rstrip("/") + "/"
                for name, link, target in _links(location, self._steps):
                    path = prefix + name.decode("utf8", "replace")
                    if link != h5py.h5l.TYPE_HARD:
                        self._refuse(f"{path!r} " + h5_layout.link_problem(
                            link_kinds.get(link, "user-defined")))
                    if target in seen:
                        continue  # a second hard link to a checked object
                    seen.add(target)
                    where = path
                    self._header(target)  # parsed (and paid for) before HDF5 reads it
                    kind = h5py.h5g.get_objinfo(location, name).type
                    if kind == h5py.h5g.GROUP:
                        stack.append((location, name, target, path))
                    elif kind == h5py.h5g.DATASET:
                        self._check_dataset(location, name, target, path)
        except ModelFileError:
            raise
        except H5_ERRORS as err:
            raise ModelFileError(self.path, f"damaged {self._what}: {where!r} cannot be read "
                                            f"({err}); what lies behind it cannot be checked, so "
                                            "the file is refused.") from err

    def _check_dataset(self, location, name, addr, path):
        """Refuses a dataset stored otherwise than Keras stores weights,
        first from its object header, then (opened) from HDF5's own view of
        it, and counts the values it holds."""
        messages = self._header(addr)
        self._check_header(messages, f"dataset {path!r}")
        problem = h5_layout.header_problem(messages, self._view)
        if problem is None:
            dsid = _h5py().h5d.open(location, name)
            problem, values, nbytes = h5_layout.opened_problem(dsid, len(self._view))
        if problem is not None:
            self._refuse(f"dataset {path!r} {problem}")
        self.stored_elements += values
        self._stored_bytes += nbytes
        if self._stored_bytes > len(self._view):
            raise ModelFileError(self.path, f"damaged {self._what}: its datasets store "
                                            f"{self._stored_bytes} bytes or more in a "
                                            f"{len(self._view)}-byte file: their storage "
                                            "overlaps.")

    def _refuse(self, problem):
        raise ModelFileError(self.path, f"{self._where}{problem}.")

    def _header(self, addr):
        """The messages of the object header at address `addr` (parsed once)."""
        at = self._layout.base + addr
        if at not in self._headers:
            self._claim(at, ("an object header",))
            messages = hs.KeptMessages(hs.header_messages(self._view, at, self._layout,
                                                          self._steps))
            for kind, data, _ in messages:
                cont = hs.continuation(self._view, data, self._layout) \
                    if kind == hs.MSG_CONTINUATION else None
                if cont:  # HDF5 caches each chunk under its address
                    self._claim(cont[0], ("a continuation of the object header at byte", at))
            self._headers[at] = messages
        return self._headers[at]

    def _check_group(self, addr, path):
        """Checks what HDF5 follows when it lists the links of the group at
        `addr`: the free list of its local heap (each heap once) and its
        B-tree (each node once in the file: a node reached twice is a cycle
        or a node shared, which HDF5 would follow forever, or once per
        path). Groups that keep their links in a fractal heap are refused
        (`h5_layout`)."""
        messages = self._header(addr)
        self._check_header(messages, f"group {path!r}")
        table = hs.symbol_table(self._view, messages, self._layout)
        if table is None:
            return
        btree, heap = table
        if heap is not None and self._layout.base + heap not in self._heaps:
            at = self._layout.base + heap
            self._heaps.add(at)
            self._claim(at, ("a local heap",))
            data = hs.heap_data(self._view, at, self._layout)
            if data is not None:
                self._claim(data, ("the data block of the local heap at byte", at))
            if hs.free_list_loops(self._view, at, self._layout, self._steps):
                raise ModelFileError(self.path, f"damaged {self._what}: the free list of the "
                                                f"HDF5 local heap at byte {at} is a cycle.")
        if btree is not None:
            nodes, leaves, again = hs.btree_nodes(self._view, self._layout.base + btree,
                                                self._layout, self._steps)
            if again is None:
                again = next((at for at in nodes if at in self._tree_nodes), None)
            if again is not None:
                raise ModelFileError(self.path, f"damaged {self._what}: group {path!r}: its "
                                                f"B-tree reaches the node at byte {again} twice "
                                                "(a cycle, or a node shared).")
            self._tree_nodes.update(nodes)
            for at in nodes:
                self._claim(at, ("a group B-tree node",))
            for at in leaves:
                self._claim(at, ("a symbol table node",))

    def _claim(self, at, what):
        """Records that HDF5 will load `what` (a tuple whose first item
        names it) from file offset `at`. HDF5's metadata cache keeps one
        entry per address: two structures at one address (two local heaps
        given one data block, a heap's data where an object header is)
        crash it, so they are refused."""
        held = self._claims.setdefault(at, what)
        if held != what:
            first = " ".join(map(str, held))
            raise ModelFileError(self.path, f"damaged {self._what}: byte {at} holds both "
                                            f"{first} and {' '.join(map(str, what))}.")

    def _check_header(self, messages, what):
        """Refuses an object whose header keeps links or attributes in a
        fractal heap (HDF5's dense storage, `h5_layout`)."""
        for kind, data, size in messages:
            problem = h5_layout.dense_storage_problem(
                kind, bytes(self._view[data:data + size]), self._layout.sizeof_addr)
            if problem:
                self._refuse(f"{what} {problem}")

    def _refuse_steps(self, limit):
        raise ModelFileError(self.path, f"damaged {self._what}: checking its HDF5 structures "
                                        f"takes more than {limit} steps, more than a file of "
                                        f"{len(self._view)} bytes can need (its structures "
                                        "overlap or go round in circles).")

    def _open_view(self, source):
        if isinstance(source, (bytes, bytearray)):
            return source if isinstance(source, bytes) else bytes(source)  # bytes: no copy
        self._fh = open_regular(source)  # held open for the map and h5py; closed in close()
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
        if not dtype or dtype[0] & 0x0F != hs.CLASS_VLEN:
            raise ModelFileError(self.path, f"attribute {name!r}: damaged datatype.")
        elem = 8 + self._layout.sizeof_addr  # length (4), heap address, object index (4)
        stored = hs.element_count(space, self._layout.sizeof_len)
        if stored != count or len(raw) < count * elem:
            raise ModelFileError(self.path, f"attribute {name!r}: damaged dataspace or data.")
        total = 0
        for i in range(count):
            at = i * elem
            length = hs.uint(raw, at, 4)
            heap = hs.uint(raw, at + 4, self._layout.sizeof_addr)
            index = hs.uint(raw, at + 4 + self._layout.sizeof_addr, 4)
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
            if hs.is_collection(self._view, at):
                self._claim(at, ("a global heap",))
                objects = hs.walk_heap(self._view, at, self._layout.sizeof_len, self._steps)
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
        addr = _object_address(h5py.h5g.get_objinfo(oid, b"."))
        key = name.encode("utf8")
        for kind, data, size in self._header(addr):
            if kind == hs.MSG_ATTRIBUTE:
                parts = hs.attribute_parts(self._view, data, size, key)
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
