"""The thread count of the BLAS library NumPy uses, read and set at run time.

NumPy's matrix products run in a BLAS library with a thread pool of its
own. `fit`, `evaluate` and `predict` change its size while they run (see
`threads.py`) and put it back afterwards, so this module only has to read
and set one number.

Which library, and how:

* **OpenBLAS**, directly through its C API with `ctypes`: NumPy's wheels
  ship it (`numpy.libs/libscipy_openblas64_*.so` on Linux, a DLL on
  Windows, `numpy/.dylibs` on Intel macOS), and Linux distributions' NumPy
  links the system `libopenblas`. Its `*_set_num_threads` and
  `*_get_num_threads` functions carry a prefix and suffix that depend on
  the build (`scipy_openblas_set_num_threads64_`, plain
  `openblas_set_num_threads`, ...); each spelling is tried. On Linux the
  loaded copies are found in `/proc/self/maps` (the one NumPy loaded,
  wherever it lives); elsewhere in NumPy's bundled library folder.
* **Any other BLAS** (MKL, BLIS) through `threadpoolctl`, when it is
  installed. It is optional: kerasette's only run-time dependencies are
  NumPy, h5py and tqdm.
* Otherwise nothing is controlled (`find()` returns None), and the BLAS
  library keeps whatever count its own settings give it. Apple's
  Accelerate, which NumPy uses on Apple silicon, has no such setting.

Example:
    >>> from kerasette.backend import blas_library
    >>> lib = blas_library.find()
    >>> lib is None or lib.get() >= 1
    True
"""

from __future__ import annotations

import glob
import os
import sys

# (set, get) spellings across OpenBLAS builds: scipy-openblas (NumPy >= 2
# wheels, 64-bit integers), symbol-suffixed 64-bit builds, plain builds.
_OPENBLAS_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)

_found: list = []  # [library or None] once looked up


class OpenBLAS:
    """One or more loaded OpenBLAS copies, set together.

    Several copies can be loaded at once (NumPy's and SciPy's wheels each
    ship one); `set` sets them all and `get` reads the first, NumPy's when
    it can tell.
    """

    name = "openblas"

    def __init__(self, functions):
        self._functions = functions  # [(set_num_threads, get_num_threads)]

    def get(self) -> int:
        """The thread count in effect now."""
        return int(self._functions[0][1]())

    def set(self, count: int) -> None:
        """Sets the thread count of every copy."""
        for set_threads, _ in self._functions:
            set_threads(int(count))


class ThreadpoolctlBLAS:
    """Any BLAS `threadpoolctl` knows (MKL, BLIS, OpenBLAS under OpenMP)."""

    name = "threadpoolctl"

    def __init__(self, controllers):
        self._controllers = controllers

    def get(self) -> int:
        return int(self._controllers[0].get_num_threads())

    def set(self, count: int) -> None:
        for controller in self._controllers:
            controller.set_num_threads(int(count))


def find():
    """The BLAS library NumPy uses, as an object with `get()` and `set(n)`,
    or None when it cannot be controlled here. Looked up once."""
    if not _found:
        _found.append(_find_openblas() or _find_with_threadpoolctl())
    return _found[0]


def _find_openblas():
    import ctypes

    functions = []
    for path in _openblas_paths():
        try:
            lib = ctypes.CDLL(path)  # already loaded by NumPy: the same copy
        except OSError:
            continue
        for set_name, get_name in _OPENBLAS_SYMBOLS:
            set_threads = getattr(lib, set_name, None)
            get_threads = getattr(lib, get_name, None)
            if set_threads is not None and get_threads is not None:
                set_threads.argtypes, set_threads.restype = (ctypes.c_int,), None
                get_threads.argtypes, get_threads.restype = (), ctypes.c_int
                functions.append((set_threads, get_threads))
                break
    return OpenBLAS(functions) if functions else None


def _openblas_paths():
    """Paths of the OpenBLAS copies NumPy may use, NumPy's own first."""
    import numpy

    bundled = []
    root = os.path.dirname(os.path.dirname(numpy.__file__))
    for folder in (os.path.join(root, "numpy.libs"),
                   os.path.join(os.path.dirname(numpy.__file__), ".dylibs")):
        bundled += sorted(glob.glob(os.path.join(folder, "*openblas*")))
    loaded = []
    if sys.platform.startswith("linux"):
        # Whatever is mapped into this process: also a system OpenBLAS that
        # a distribution's NumPy links, found where the loader found it.
        try:
            with open("/proc/self/maps") as maps:
                for line in maps:
                    path = line.rstrip("\n").split(None, 5)[-1]
                    if "openblas" in os.path.basename(path) and ".so" in path:
                        loaded.append(path)
        except OSError:
            pass
        bundled = [p for p in bundled if p in loaded]  # present but not loaded: skip
    paths = []
    for path in bundled + loaded:
        if path not in paths:
            paths.append(path)
    return paths


def _find_with_threadpoolctl():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    try:
        controllers = ThreadpoolController().select(user_api="blas").lib_controllers
    except Exception:  # noqa: BLE001 - an unexpected library layout: control nothing
        return None
    return ThreadpoolctlBLAS(controllers) if controllers else None
