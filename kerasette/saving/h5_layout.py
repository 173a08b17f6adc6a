"""Which HDF5 links, groups and dataset storage kerasette reads: what Keras writes.

Every dataset in the Keras files checked (tf.keras 2.21 and Keras 3.15
`.h5` models, legacy and `.weights.h5` weights, the `model.weights.h5` of
`.keras` archives and model folders; kerasette's own saves, all written by
h5py) is stored *contiguously*, unfiltered, in the file itself, scalars
included; every link is a hard link. So the loaders read nothing else, and
the HDF5 library never gets the chance to:

* read another file: external storage (a dataset's bytes in any local
  file, `/etc/passwd` say), an external link or a virtual dataset (values
  from another HDF5 file). Keras 3 refuses all three.
* crash on a damaged chunk index or filter (a chunked gzip/shuffle/
  fletcher32 dataset with a few zeroed index bytes segfaults h5py), or
  load a filter plugin.
* allocate memory the file does not hold: a contiguous dataset's bytes
  must lie inside the file, so the weights a file declares are at most
  its size (`H5Reader.stored_elements` bounds what rebuilding the model
  may allocate).

The checks come in two steps, both on metadata only: `header_problem`
reads a dataset's object header messages before HDF5 opens the dataset
(opening a chunked dataset sets up its index; `H5Dget_space` on a virtual
dataset opens its source files), and `opened_problem` asks HDF5 itself,
through the creation property list, before anything else touches it.
Soft links are refused too: Keras never writes them, and without them
every path a loader follows goes through groups and datasets checked
here. So are links and attributes kept in a fractal heap (HDF5's dense
storage, `dense_storage_problem`), which Keras never writes either: the
HDF5 structures a load then reaches are object headers, local heaps,
version-1 group B-trees, global heaps and contiguous data, all of which
`h5_guard` checks.
"""

from __future__ import annotations

# Object header message types (HDF5 file format, section IV.A.2).
MSG_LINK_INFO = 0x0002
MSG_EXTERNAL_FILES = 0x0007
MSG_LAYOUT = 0x0008
MSG_FILTER_PIPELINE = 0x000B
MSG_ATTRIBUTE_INFO = 0x0015

_CONTIGUOUS = 1  # the layout class, in every layout message version
_LAYOUT_NAMES = {0: "compact", 1: "contiguous", 2: "chunked", 3: "virtual"}
_FILTER_NAMES = {1: "gzip", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit",
                 6: "scaleoffset", 32000: "lzf", 32001: "blosc", 32004: "lz4",
                 32008: "bitshuffle", 32015: "zstd"}

_ONLY = "Keras writes every weight contiguously and unfiltered, so kerasette reads nothing else"
EXTERNAL = ("uses external storage (its bytes live in another file); kerasette refuses it, "
            "as Keras 3 does")
VIRTUAL = ("is a virtual dataset (its values come from other HDF5 files); kerasette refuses "
           "it, as Keras 3 does")


def link_problem(kind_name):
    """Why a link of kind `kind_name` ("external", "soft", ...) is refused."""
    if kind_name == "external":
        return ("is an external link (it points into another file); kerasette refuses it, "
                "as Keras 3 does")
    return (f"is a {kind_name} link; Keras files hold only hard links, and kerasette "
            "follows nothing else")


def dense_storage_problem(kind, data, sizeof_addr):
    """Why an object whose header holds message `kind` with bytes `data` is
    refused: a link info or attribute info message naming a fractal heap
    (HDF5's "dense" storage of many links or attributes, whose B-trees and
    heaps the checks do not follow). Keras files never use it: h5py writes
    old-style groups (a symbol table) and attributes in the object header.
    None when there is no such problem."""
    if kind not in (MSG_LINK_INFO, MSG_ATTRIBUTE_INFO) or len(data) < 2:
        return None
    # version, flags, [maximum creation index], fractal heap address, ...
    at = 2 + ((8 if kind == MSG_LINK_INFO else 2) if data[1] & 1 else 0)
    heap = data[at:at + sizeof_addr]
    if len(heap) == sizeof_addr and heap == b"\xff" * sizeof_addr:
        return None  # no fractal heap: the links or attributes are messages
    what = "links" if kind == MSG_LINK_INFO else "attributes"
    return (f"keeps its {what} in a fractal heap (HDF5's dense storage); Keras files never "
            "do, and kerasette reads nothing else")


def _layout_class(data):
    """The storage class in a layout message's bytes, or None."""
    if len(data) < 3:
        return None
    version = data[0]
    if version in (1, 2):  # version, dimensionality, class
        return data[2]
    if version in (3, 4):  # version, class
        return data[1]
    return None


def _filter_ids(data):
    """The filter ids in a filter pipeline message's bytes (as many as can
    be read)."""
    if len(data) < 2:
        return []
    version, count = data[0], data[1]
    ids, p = [], 8 if version == 1 else 2
    for _ in range(count):
        if p + 2 > len(data):
            break
        fid = int.from_bytes(data[p:p + 2], "little")
        ids.append(fid)
        if version == 1 or fid >= 256:  # name length, flags, value count, name, values
            if p + 8 > len(data):
                break
            name_len = int.from_bytes(data[p + 2:p + 4], "little")
            values = int.from_bytes(data[p + 6:p + 8], "little")
            name_len = (name_len + 7) // 8 * 8 if version == 1 else name_len
            p += 8 + name_len + 4 * values + (4 if version == 1 and values % 2 else 0)
        else:  # flags, value count, values
            if p + 6 > len(data):
                break
            values = int.from_bytes(data[p + 4:p + 6], "little")
            p += 6 + 4 * values
    return ids


def _filters_text(ids):
    names = [_FILTER_NAMES.get(i, f"filter {i}") for i in ids]
    return f" ({', '.join(names)})" if names else ""


def filters_problem(ids):
    """Why a dataset with the filters `ids` is refused."""
    return (f"is compressed or filtered{_filters_text(ids)}; {_ONLY} (a damaged filtered "
            "dataset can crash the HDF5 library)")


def layout_problem(layout_class):
    """Why a dataset stored as `layout_class` is refused (None: contiguous)."""
    if layout_class == _CONTIGUOUS:
        return None
    if layout_class == 3:
        return VIRTUAL
    name = _LAYOUT_NAMES.get(layout_class)
    what = f"is stored {name}" if name else f"has an unknown storage layout ({layout_class})"
    return f"{what}; {_ONLY}" + (" (a damaged chunk index can crash the HDF5 library)"
                                 if name == "chunked" else "")


def header_problem(messages, view):
    """Why a dataset is refused, from its object header, before HDF5 opens it.

    Args:
        messages: `(type, data offset, size)` of each message of the
            dataset's object header.
        view: the file's bytes, which the offsets index.

    Returns:
        The reason as words that follow "dataset 'name' ", or None.
    """
    layouts = []
    for kind, at, size in messages:
        data = bytes(view[at:at + size])
        if kind == MSG_EXTERNAL_FILES:
            return EXTERNAL
        if kind == MSG_FILTER_PIPELINE:
            return filters_problem(_filter_ids(data))
        if kind == MSG_LAYOUT:
            layouts.append(_layout_class(data))
    if len(layouts) != 1:
        return (f"has {len(layouts)} storage layout messages (its object header is damaged)"
                if layouts else "has no readable storage layout (its object header is damaged)")
    return layout_problem(layouts[0])


def opened_problem(dsid, file_size):
    """Why an opened dataset is refused, asked of HDF5 before its data or
    even its dataspace is touched; else what it stores.

    Args:
        dsid: the `h5py.h5d.DatasetID`.
        file_size: bytes in the file, where contiguous data must lie.

    Returns:
        `(problem, values, bytes)`: the reason (None when it is readable),
        and the number of values and bytes it stores.
    """
    from h5py import h5d

    plist = dsid.get_create_plist()
    if plist.get_external_count():
        return EXTERNAL, 0, 0
    layout = plist.get_layout()
    if layout != h5d.CONTIGUOUS:
        names = {h5d.COMPACT: 0, h5d.CONTIGUOUS: 1, h5d.CHUNKED: 2,
                 getattr(h5d, "VIRTUAL", -1): 3}
        return layout_problem(names.get(layout, layout)), 0, 0
    if plist.get_nfilters():
        ids = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
        return filters_problem(ids), 0, 0
    # Contiguous: the dataspace and the data's place can be asked for now.
    values = dsid.get_space().get_simple_extent_npoints()
    nbytes = values * dsid.get_type().get_size()
    if nbytes == 0:
        return None, values, 0
    offset = dsid.get_offset()
    if offset is None:
        return (f"declares {values} values but stores none (its storage was never "
                "written)"), 0, 0
    if dsid.get_storage_size() != nbytes or offset + nbytes > file_size:
        return (f"declares {nbytes} bytes at byte {offset}, which the {file_size}-byte file "
                "does not hold (damaged)"), 0, 0
    return None, values, nbytes
