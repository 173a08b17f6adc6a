"""The examples in kerasette's docstrings run, on every backend.

Modules are imported from the installed package (as CI tests it), so the
examples users read are the ones that are checked.
"""

import doctest
import importlib
import pkgutil

import pytest

import kerasette

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(kerasette.__path__, "kerasette."))


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    if module_name.startswith("kerasette.wrappers"):
        pytest.importorskip("sklearn")  # an optional extra
    if module_name == "kerasette.callbacks.tensorboard":
        pytest.importorskip("tensorboard")  # an optional extra
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
