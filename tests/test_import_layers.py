"""The import layering: low modules import nothing high, and no circles.

The modules are parsed with `ast`, not imported, and every import counts,
also one inside a function: a lazy import only moves a circle to run time.
`from kerasette.x import y` counts as importing `kerasette.x.y` when that
is a module, else `kerasette.x`; `from kerasette import __version__` counts
as importing the root package, which imports everything.

Low (anything may import them): `utils` (the name registry, the dialect
constants, argument checks, the interrupt guard), `backend`, `autodiff`.
High: the packages that build, train and save models. The target layout is
in DESIGN.md, section 8.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kerasette"

LOW = ("utils", "backend", "autodiff")
HIGH = ("layers", "models", "training", "saving", "callbacks", "optimizers")
# The object families with a name table: used by layers, compile and saving.
FAMILIES = ("activations", "initializers", "regularizers", "constraints", "losses", "metrics")

# Imports that break a rule below on purpose, (importer, imported): reason.
ALLOWED = {
    ("kerasette.utils.file_utils", "kerasette"):
        "reads __version__ for the download User-Agent, lazily, when the package "
        "is fully imported",
}
# Edges of the package graph that close a circle, (importer, imported): reason.
ALLOWED_CIRCLES = {
    ("backend", "utils"):
        "both low: set_backend resets the automatic layer names (utils.naming) and "
        "utils.random seeds the backend's generator",
}


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: these checks run once."""
    yield None


def _modules() -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its own)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, int]]:
    """`(imported kerasette module, line)` for each import in module `name`."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.append((sub if sub in MODULES else module, node.lineno))
    return [(target, line) for target, line in found
            if target == "kerasette" or target.startswith("kerasette.")]


def _within(name: str, prefixes) -> bool:
    """Whether `name` is one of `prefixes` or inside one (the root package,
    "kerasette", matches only itself)."""
    return any(name == p or (p != "kerasette" and name.startswith(p + "."))
               for p in prefixes)


def _violations(importers, forbidden) -> list[str]:
    """Imports from modules under `importers` of modules under `forbidden`
    (dotted prefixes), minus `ALLOWED`, as readable lines."""
    bad = []
    for name in MODULES:
        if not _within(name, importers):
            continue
        for target, line in _imports(name):
            if _within(target, forbidden) and (name, target) not in ALLOWED:
                bad.append(f"{MODULES[name].relative_to(PACKAGE.parent)}:{line} imports {target}")
    return bad


def _pkg(*names: str) -> tuple[str, ...]:
    return tuple(f"kerasette.{n}" for n in names)


def test_the_parser_sees_the_imports():
    # Guards the checks below against passing because nothing was found.
    assert len(MODULES) > 50
    assert "kerasette.training.validation" in {
        t for t, _ in _imports("kerasette.training.trainer")}
    assert "kerasette.utils.registry" in {t for t, _ in _imports("kerasette.losses")}
    assert "kerasette" in {t for t, _ in _imports("kerasette.utils.file_utils")}


def test_saving_imports_no_model_class():
    # Saving rebuilds models by registered class name (utils.registry).
    assert _violations(_pkg("saving"), _pkg("models")) == []


def test_low_modules_import_nothing_high():
    # The root package counts as high: importing it imports everything.
    assert _violations(_pkg(*LOW), _pkg(*HIGH) + ("kerasette",)) == []


def test_object_families_import_nothing_high():
    assert _violations(_pkg(*FAMILIES), _pkg(*HIGH)) == []


def test_optimizers_import_no_trainer_model_or_layer():
    assert _violations(_pkg("optimizers"),
                       _pkg("training", "models", "layers", "saving", "callbacks")) == []


def test_input_checks_and_direct_step_import_no_model_or_trainer():
    # The trainer hands them what they need (Trainer._declared_input_shape,
    # _checked_output_shape, _layer_chain, _uses_default_step).
    modules = _pkg("training.validation", "training.fast_step")
    assert _violations(modules, _pkg("models", "training.trainer")) == []


def test_callbacks_import_only_their_base():
    # Each callback imports the base class; only the list imports callbacks.
    assert _violations(_pkg("callbacks"), _pkg("models", "training", "saving",
                                              "optimizers")) == []
    shared = _pkg("callbacks.base", "callbacks._checks", "callbacks.logs")
    assert [t for t, _ in _imports("kerasette.callbacks.base")] == []
    bad = []
    for name in MODULES:
        if not name.startswith("kerasette.callbacks.") or name.endswith(".callback_list"):
            continue
        bad += [f"{name} imports {t}" for t, _ in _imports(name)
                if _within(t, _pkg("callbacks")) and t not in shared]
    assert bad == []


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        if name == "kerasette":
            continue
        source = name.split(".")[1]
        for target, _ in _imports(name):
            parts = target.split(".")
            if len(parts) > 1 and parts[1] != source:
                graph.setdefault(source, set()).add(parts[1])
    return graph


def test_no_circles_between_packages():
    graph = _package_graph()
    for source, target in ALLOWED_CIRCLES:
        graph.get(source, set()).discard(target)
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                circle = path[path.index(nxt):] + [nxt]
                pytest.fail("import circle between packages: " + " -> ".join(circle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_old_import_paths_still_work():
    import kerasette as keras
    from kerasette.saving import registry as old_registry
    from kerasette.training import interrupts as old_interrupts
    from kerasette.utils import interrupts, registry

    assert old_registry.NameTable is registry.NameTable
    assert old_registry._CUSTOM_OBJECTS is registry._CUSTOM_OBJECTS
    assert old_interrupts.StepGuard is interrupts.StepGuard
    assert old_interrupts.CriticalSection is interrupts.CriticalSection
    assert keras.callbacks.CallbackList.__module__ == "kerasette.callbacks.callback_list"
    assert registry.model_class("Sequential") is keras.Sequential
