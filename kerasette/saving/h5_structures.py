"""The HDF5 structures that `h5_guard` checks, parsed from a file's bytes.

Each parser reads what the HDF5 library will read, the way it reads it,
without trusting any size, offset or count in the file: offsets past the
end give None, and every unit of work (a header message or chunk, a free
block, a B-tree entry, a heap object) is paid for with a `Steps` budget
proportional to the file's size, so that no file can make a check
superlinear. The HDF5 file format specification (version 3.0) names the
fields; the HDF5 functions that trust them are named where it matters.
"""

from __future__ import annotations

import array
import collections

from kerasette.saving import h5_layout

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_U64 = 1 << 64

MSG_ATTRIBUTE = 0x000C
MSG_CONTINUATION = 0x0010
MSG_SYMBOL_TABLE = 0x0011
CLASS_VLEN = 9


class Steps:
    """The work the checks may do on one file: `per_byte` steps per byte of
    it, plus `floor`, where a step is one header message or chunk, free
    block, B-tree entry, link or global heap object. In a good file these
    do not overlap and nearly all span 12 bytes or more (a message header
    of 4 or 8 bytes and its data, a 16-byte free block or B-tree entry, a
    40-byte symbol table entry), so it needs about a twelfth of a step per
    byte at most (Keras files a hundredth); only overlapping, damaged or
    crafted structures ask for more. The limit also bounds what HDF5
    allocates for the structures it reads (about 100 bytes a message): at
    most about 25 MB for a 1 MB file.

    Args:
        size: bytes in the file.
        refuse: called with the limit when the steps run out; raises.
    """

    per_byte = 0.25
    floor = 4096

    def __init__(self, size, refuse):
        self.limit = int(size * self.per_byte) + self.floor
        self.used = 0
        self._refuse = refuse

    def take(self, n=1):
        """Spends `n` steps; past the limit, refuses the file."""
        if not self.spend(n):
            self._refuse(self.limit)

    def spend(self, n=1):
        """Spends `n` steps; False past the limit (for callbacks that must
        not raise)."""
        self.used += n
        return self.used <= self.limit


def uint(view, at, size):
    """A little-endian unsigned integer, or None past the end of `view`."""
    if at < 0 or at + size > len(view):
        return None
    return int.from_bytes(view[at:at + size], "little")


def align8(n):
    return (n + 7) // 8 * 8


# -- the superblock -------------------------------------------------------------------


class Layout:
    """What the superblock says about addresses: where address 0 is, how
    wide offsets and lengths are, and where the root group's object header
    is (`root`, an address, or None). Defaults when no superblock is found
    (h5py then refuses the file anyway)."""

    def __init__(self, view):
        self.base, self.sizeof_addr, self.sizeof_len = 0, 8, 8
        self.root = None
        at = 0
        while at + 16 <= len(view):
            if view[at:at + 8] == HDF5_MAGIC:
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
        base = uint(view, base_at, self.sizeof_addr)
        self.base = base if base is not None and base <= len(view) else at
        # v0/v1: base, free space, end of file and driver info addresses, then
        # the root's symbol table entry (link name offset, header address);
        # v2/v3: base, superblock extension, end of file, root header address.
        sa = self.sizeof_addr
        root_at = base_at + (4 * sa + self.sizeof_len if version < 2 else 3 * sa)
        self.root = uint(view, root_at, sa)


# -- global heap collections ----------------------------------------------------------


def walk_heap(view, start, sizeof_len, steps):
    """Walks the collection at `start` as H5HG__cache_heap_deserialize does,
    one of `steps` per object.

    Returns:
        `{index: (data offset, size)}` of the objects lying wholly inside
        the collection, or None if HDF5's walk would never end (an object
        of index 0 and size 0, or a size that wraps C's arithmetic).
    """
    header = 8 + sizeof_len  # "GCOL", version, 3 reserved, collection size
    obj_header = 8 + sizeof_len  # index (2), refcount (2), reserved (4), size
    size = uint(view, start + 8, sizeof_len)
    if size is None:
        return {}
    end = start + size
    p, objects = start + header, {}
    while p < end:
        steps.take()
        if p + obj_header > end:
            break  # the tail is free space
        index = uint(view, p, 2)
        obj_size = uint(view, p + 8, sizeof_len)
        if index is None or obj_size is None:
            break  # past the end of the file: HDF5 fails to read it
        need = obj_size if index == 0 else obj_header + align8(obj_size)
        need %= _U64  # size_t arithmetic, as in C
        if need == 0 or need >= _U64 // 2:
            return None
        if index and p + obj_header + obj_size <= min(end, len(view)):
            objects[index] = (p + obj_header, obj_size)
        elif index:
            objects.pop(index, None)  # runs past its collection: unreadable
        p += need
    return objects


def is_collection(view, at):
    """Whether HDF5 accepts a global heap collection at `at` (its signature
    and version: the checks H5HG makes before walking it)."""
    return view[at:at + 4] == b"GCOL" and view[at + 4:at + 5] == b"\x01"


def free_list_loops(view, at, layout, steps):
    """True if the free list of the local heap at `at` (the heap of a
    group's link names) is a cycle. HDF5 (H5HL__fl_deserialize) follows it
    without remembering where it has been, so a cycle loops forever. One of
    `steps` per free block: heaps pointed at one shared list run out of
    steps, where a walk per heap would be quadratic."""
    sizeof_len = layout.sizeof_len
    size = uint(view, at + 8, sizeof_len)
    block = uint(view, at + 8 + sizeof_len, sizeof_len)
    data = uint(view, at + 8 + 2 * sizeof_len, layout.sizeof_addr)
    if size is None or block is None or data is None:
        return False
    data += layout.base
    seen = set()
    while block != 1:  # H5HL_FREE_NULL
        steps.take()
        if block >= size or block in seen:
            return block in seen  # past the end: HDF5 reports an error
        seen.add(block)
        following = uint(view, data + block, sizeof_len)
        length = uint(view, data + block + sizeof_len, sizeof_len)
        if not following or length is None or block + length > size:
            return False  # HDF5 reports these as errors
        block = following
    return False


def symbol_table(view, messages, layout):
    """(B-tree address, local heap address) in the symbol table message
    among an object header's `messages` (an old-style group), or None."""
    for kind, data, size in messages:
        if kind == MSG_SYMBOL_TABLE and size >= 2 * layout.sizeof_addr:
            return (uint(view, data, layout.sizeof_addr),
                    uint(view, data + layout.sizeof_addr, layout.sizeof_addr))
    return None


def btree_nodes(view, root, layout, steps):
    """Walks the group B-tree (version 1, node type 0) whose root is at
    file offset `root` as HDF5 does when it lists the group's links
    (H5B__iterate_helper), one of `steps` per node and entry.

    HDF5 descends into every child of a node above level 0 without
    remembering where it has been, so a child pointing back at an ancestor
    recurses until the stack overflows (a segfault), and nodes shared
    between branches are listed once per path, exponentially often. Nodes
    that are not group B-tree nodes end the walk there: HDF5 refuses them
    (their signature or type) with an error.

    Returns:
        `(nodes, leaves, again)`: the file offsets of its nodes and of the
        symbol table nodes they point to, and the first node reached a
        second time (None if none was).
    """
    sa, sl = layout.sizeof_addr, layout.sizeof_len
    seen, stack, leaves = set(), [root], []
    while stack:
        at = stack.pop()
        steps.take()
        if at in seen:
            return list(seen), leaves, at
        seen.add(at)
        if view[at:at + 5] != b"TREE\x00" or at + 8 > len(view):
            continue
        level, used = view[at + 5], uint(view, at + 6, 2)
        first = at + 8 + 2 * sa + sl  # signature .. right sibling, then key 0
        for i in range(used):
            steps.take()
            child = uint(view, first + i * (sa + sl), sa)
            if child is None:
                break
            # Above level 0 the children are nodes; at level 0 symbol table
            # nodes, each read once.
            (stack if level else leaves).append(layout.base + child)
    return list(seen), leaves, None


def heap_data(view, at, layout):
    """The file offset of the data block of the local heap at `at`, or None."""
    data = uint(view, at + 8 + 2 * layout.sizeof_len, layout.sizeof_addr)
    return None if data is None else layout.base + data


# -- object headers and attribute messages --------------------------------------------


def _messages_v1(view, at, layout, steps):
    """(type, data offset, size) of each message of a version-1 object header."""
    first = uint(view, at + 8, 4)
    if first is None:
        return
    chunks, seen = collections.deque([(at + 16, first)]), set()
    while chunks:  # every chunk HDF5 reads (each one a step: no cap is needed)
        start, length = chunks.popleft()
        steps.take()
        if start in seen:
            continue
        seen.add(start)
        p, end = start, min(start + length, len(view))
        while p + 8 <= end:
            steps.take()
            kind, size = uint(view, p, 2), uint(view, p + 2, 2)
            data = p + 8
            if data + size > end:
                break
            if kind == MSG_CONTINUATION:
                cont = continuation(view, data, layout)
                if cont:
                    chunks.append(cont)
            yield kind, data, size
            p = data + size


def _messages_v2(view, at, layout, steps):
    """(type, data offset, size) of each message of a version-2 ("OHDR") header."""
    flags = view[at + 5] if at + 5 < len(view) else 0
    p = at + 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
    width = 1 << (flags & 0x03)
    first = uint(view, p, width)
    if first is None:
        return
    chunks, seen = collections.deque([(p + width, first)]), set()
    while chunks:  # every chunk HDF5 reads (each one a step: no cap is needed)
        start, length = chunks.popleft()
        steps.take()
        if start in seen:
            continue
        seen.add(start)
        p, end = start, min(start + length, len(view))
        header = 6 if flags & 0x04 else 4  # type, size, flags[, creation order]
        while p + header <= end:
            steps.take()
            kind, size = view[p], uint(view, p + 1, 2)
            data = p + header
            if data + size > end:
                break
            if kind == MSG_CONTINUATION:
                cont = continuation(view, data, layout)
                if cont:  # "OCHK" signature before, checksum after the messages
                    chunks.append((cont[0] + 4, cont[1] - 8))
            yield kind, data, size
            p = data + size


def continuation(view, data, layout):
    offset = uint(view, data, layout.sizeof_addr)
    length = uint(view, data + layout.sizeof_addr, layout.sizeof_len)
    if offset is None or length is None:
        return None
    return layout.base + offset, length


def header_messages(view, at, layout, steps):
    """(type, data offset, size) of each message of the object header at
    `at` (none where there is no header HDF5 would read)."""
    if view[at:at + 4] == b"OHDR":
        return _messages_v2(view, at, layout, steps) if view[at + 4:at + 5] == b"\x02" else ()
    if view[at:at + 1] == b"\x01":
        return _messages_v1(view, at, layout, steps)
    return ()


class KeptMessages:
    """The messages of one object header that the checks read, packed
    (`array` of type, offset, size): null, dataspace, datatype and other
    messages are dropped, so a crafted header of half a million messages
    costs megabytes, not the tens a list of tuples would."""

    KINDS = frozenset((h5_layout.MSG_LINK_INFO, h5_layout.MSG_EXTERNAL_FILES,
                       h5_layout.MSG_LAYOUT, h5_layout.MSG_FILTER_PIPELINE, MSG_ATTRIBUTE,
                       MSG_CONTINUATION, MSG_SYMBOL_TABLE, h5_layout.MSG_ATTRIBUTE_INFO))
    __slots__ = ("_packed",)

    def __init__(self, messages):
        self._packed = array.array("q")
        for kind, data, size in messages:
            if kind in self.KINDS:
                self._packed.extend((kind, data, size))

    def __iter__(self):
        packed = self._packed
        return zip(packed[0::3], packed[1::3], packed[2::3])


def attribute_parts(view, data, size, name):
    """(datatype, dataspace, raw data) slices of the attribute message at
    `data` if it is the attribute `name`; else None."""
    msg = view[data:data + size]
    if len(msg) < 8:
        return None
    version = msg[0]
    name_size, type_size, space_size = (int.from_bytes(msg[i:i + 2], "little")
                                        for i in (2, 4, 6))
    if version == 1:
        pad, p = align8, 8
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


def element_count(space, sizeof_len):
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
        dim = uint(space, dims_at + i * sizeof_len, sizeof_len)
        if dim is None:
            return None
        count *= dim
    return count
