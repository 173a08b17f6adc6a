"""The name registry, at its old path: it lives in `kerasette.utils.registry`.

Kept so that `from kerasette.saving.registry import NameTable` (and the
user-facing `register_serializable`) go on working.
"""

from kerasette.utils.registry import (  # noqa: F401 - re-exported
    _CUSTOM_OBJECTS,
    NameTable,
    register_serializable,
)

__all__ = ["NameTable", "register_serializable"]
