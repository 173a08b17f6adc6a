"""The README's (and the examples') benchmark figures match benchmarks/RESULTS.md.

Issue 24: figures copied by hand drifted from the report they quote. Each
check parses both files and fails naming the README sentence or table row
that disagrees. A figure agrees when it is the report's value rounded to
the digits the README shows.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf8")
RESULTS = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf8")
_UNITS = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "MB": 1.0, "%": 1.0, "x": 1.0, "": 1.0}
_NUMBER = re.compile(r"(-?[\d,]*\.?\d+)\s*(µs|ms|s|MB|%|x)?")


def _flat(text):
    return " ".join(text.split())


def _value(cell):
    """`(value in base units, half a unit of its last digit)` of '1.98 s', '2,868 µs', '0.79x'."""
    match = _NUMBER.search(cell)
    assert match, f"no number in {cell!r}"
    digits, unit = match.group(1).replace(",", ""), match.group(2) or ""
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    scale = _UNITS[unit]
    return float(digits) * scale, 0.5 * 10.0 ** -decimals * scale


def _agrees(shown, value):
    """Whether the README's `shown` text is `value` (base units) rounded."""
    got, half = _value(shown)
    return abs(got - value) <= half * (1 + 1e-9) + 1e-12


def _tables(text):
    """[(h2, h3, row dicts)] of every Markdown table, under its headings."""
    tables, h2, h3, header = [], "", "", None
    for line in text.splitlines():
        if line.startswith("## "):
            h2, h3, header = line[3:].strip(), "", None
        elif line.startswith("### "):
            h3, header = line[4:].strip(), None
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
                tables.append((h2, h3, []))
            elif not set("".join(cells)) <= set("-: "):
                tables[-1][2].append(dict(zip(header, cells)))
        else:
            header = None
    return tables


TABLES = _tables(RESULTS)


def _table(h2_prefix, h3=""):
    found = [rows for a, b, rows in TABLES if a.startswith(h2_prefix) and b == h3]
    assert len(found) == 1, f"RESULTS.md: no single table under {h2_prefix!r} / {h3!r}"
    return found[0]


def _row(rows, system):
    found = [r for r in rows if r.get("system") == system]
    assert found, f"RESULTS.md: no row {system!r}"
    return found[0]


def _mlp(run, batch):
    if run == 2:
        return _table("MNIST MLP (784-512-128-10", f"batch {batch}")
    if run == 5:
        return _table("Run 5: every section", f"Run 5: MNIST MLP, batch {batch}")
    return _table(f"Run {run}: MNIST MLP", f"run {run}, batch {batch}")


def _run5(h3_prefix):
    """The run 5 table whose heading starts `Run 5: <h3_prefix>`."""
    found = [rows for a, b, rows in TABLES
             if a.startswith("Run 5: every section") and b.startswith("Run 5: " + h3_prefix)]
    assert len(found) == 1, f"RESULTS.md: no single run 5 table {h3_prefix!r}"
    return found[0]


def _seconds(rows, system, column="epoch (median)"):
    return _value(_row(rows, system)[column])[0]


def _readme_table(first_header, nth=0):
    """The `nth` README table whose first header cell is `first_header`: {first cell: row}."""
    found = [rows for _, _, rows in _tables(README)
             if rows and next(iter(rows[0])) == first_header]
    assert len(found) > nth, f"README: no table headed {first_header!r}"
    return {next(iter(r.values())): r for r in found[nth]}


def _check(where, shown, value):
    assert _agrees(shown, value), (
        f"README {where}: shows {shown!r}, benchmarks/RESULTS.md gives {value:.6g}")


def _sentence(pattern):
    match = re.search(pattern, _flat(README))
    assert match, f"README: the sentence matching {pattern!r} is gone or was reworded"
    return match


# -- the performance table -----------------------------------------------------------
PERF = _readme_table("workload")


@pytest.mark.parametrize("batch", [128, 32])
def test_mlp_rows_match_run_5(batch):
    where = next(k for k in PERF if k.startswith("MNIST MLP epoch") and k.endswith(f"{batch}"))
    row, rows = PERF[where], _mlp(5, batch)
    _check(f"row {where!r}, kerasette", row["kerasette"], _seconds(rows, "kerasette"))
    _check(f"row {where!r}, NumPy update", row["NumPy update"],
           _seconds(rows, "kerasette, NumPy update"))
    _check(f"row {where!r}, PyTorch", row["PyTorch"], _seconds(rows, "PyTorch"))
    _check(f"row {where!r}, tf.keras", row["tf.keras"], _seconds(rows, "tf.keras"))
    ratio, numpy_ratio = re.findall(r"[\d.]+x", row["kerasette / PyTorch"])
    _check(f"row {where!r}, ratio", ratio, _value(_row(rows, "kerasette")["/ PyTorch"])[0])
    _check(f"row {where!r}, NumPy update ratio", numpy_ratio,
           _value(_row(rows, "kerasette, NumPy update")["/ PyTorch"])[0])


@pytest.mark.parametrize("start, table", [
    ("MNIST CNN epoch", "MNIST CNN (examples/mnist_cnn.py's network)"),
    ("small MNIST CNN epoch", "the small MNIST CNN")])
def test_cnn_rows_match_run_5(start, table):
    where = next(k for k in PERF if k.startswith(start))
    row, rows = PERF[where], _run5(table)
    for column, system in (("kerasette", "kerasette"), ("PyTorch", "PyTorch"),
                           ("tf.keras", "tf.keras")):
        _check(f"row {where!r}, {column}", row[column], _seconds(rows, system))
    _check(f"row {where!r}, ratio", row["kerasette / PyTorch"],
           _value(_row(rows, "kerasette")["/ PyTorch"])[0])


def test_recipe_rows_match_run_5():
    recipes = _readme_table("recipe")
    measured = {r["recipe"]: r for r in _run5("the course notes' recipes")}
    pairs = {"Iris": "Iris recipe", "XOR": "XOR", "MNIST MLP with BatchNormalization":
             "MNIST MLP, BatchNormalization"}
    assert len(recipes) == len(pairs), sorted(recipes)
    for shown_start, measured_start in pairs.items():
        where = next(k for k in recipes if k.startswith(shown_start))
        row = recipes[where]
        got = next(r for k, r in measured.items() if k.startswith(measured_start))
        ours = _value(got["kerasette"])[0]
        _check(f"recipe row {where!r}, kerasette", row["kerasette"], ours)
        _check(f"recipe row {where!r}, PyTorch", row["PyTorch (plain loop)"],
               _value(got["PyTorch (kerasette/PyTorch)"])[0])
        _check(f"recipe row {where!r}, ratio", row["kerasette / PyTorch"],
               _value(got["PyTorch (kerasette/PyTorch)"].split("(")[1])[0])
        if row["tf.keras"]:
            _check(f"recipe row {where!r}, tf.keras", row["tf.keras"],
                   _value(got["tf.keras (kerasette/tf.keras)"])[0])


def test_tiny_rows_match_run_5():
    rows = _run5("tiny model, the Iris network")
    step = "training step (fit, batch 20)"
    where = next(k for k in PERF if k.startswith("Iris network (4-20-20-3)"))
    row = PERF[where]
    for column, system in (("kerasette", "kerasette"), ("PyTorch", "PyTorch"),
                           ("tf.keras", "tf.keras")):
        _check(f"row {where!r}, {column}", row[column], _seconds(rows, system, step))
    _check(f"row {where!r}, ratio", row["kerasette / PyTorch"],
           _seconds(rows, "kerasette", step) / _seconds(rows, "PyTorch", step))
    where = next(k for k in PERF if k.startswith("Iris network, single-row"))
    row = PERF[where]
    for column, system in (("kerasette", "kerasette"), ("PyTorch", "PyTorch"),
                           ("tf.keras", "tf.keras")):
        _check(f"row {where!r}, {column}", row[column],
               _seconds(rows, system, "single-row predict"))


def test_import_and_memory_rows_match_run_5():
    where = next(k for k in PERF if k.startswith("`import kerasette`"))
    imports = {r["import"]: r for r in _run5("import time")}
    _check(f"row {where!r}", PERF[where]["kerasette"],
           _value(imports["kerasette, above numpy and h5py"]["time"])[0])
    where = next(k for k in PERF if k.startswith("peak memory"))
    memory = {r["quantity"]: r for r in _run5("memory, one epoch")}
    _check(f"row {where!r}, kerasette", PERF[where]["kerasette"],
           _value(memory["peak beyond the inputs (loading included)"]["MB"])[0])
    numpy_update = re.search(r"With `KERASETTE_CPU_KERNELS=0` the same\s+probe gives (\d+) MB",
                             RESULTS)
    assert numpy_update, "RESULTS.md: the NumPy update's memory sentence is gone"
    _check(f"row {where!r}, NumPy update", PERF[where]["NumPy update"],
           float(numpy_update.group(1)))


# -- sentences ---------------------------------------------------------------------------
RUNS = (1, 2, 3, 4)


def test_numba_saving_range_in_install_matches_the_four_runs():
    savings = [100 * (1 - _seconds(_mlp(run, b), "kerasette")
                      / _seconds(_mlp(run, b), "kerasette, NumPy update"))
               for run in RUNS for b in (128, 32)]
    m = _sentence(r"an MNIST MLP epoch took from (\d+)% more to (\d+)% less time "
                  r"\(median (\d+)% less\)")
    where = "install: the numba extra's MLP epoch"
    _check(where + ", most time added", m.group(1) + "%", -min(savings))
    _check(where + ", most time saved", m.group(2) + "%", max(savings))
    _check(where + ", median", m.group(3) + "%", statistics.median(savings))


def test_spread_sentence_matches_the_four_runs():
    def ratios(system, batch):
        return [_value(_row(_mlp(run, batch), system)["/ PyTorch"])[0] for run in RUNS]

    m = _sentence(r"the ratio to PyTorch was ([\d.]+)-([\d.]+)x at batch 128 and "
                  r"([\d.]+)-([\d.]+)x at batch 32 with the compiled update \(medians "
                  r"([\d.]+)x and ([\d.]+)x\), and ([\d.]+)-([\d.]+)x and ([\d.]+)-([\d.]+)x "
                  r"with the NumPy one")
    k128, k32 = ratios("kerasette", 128), ratios("kerasette", 32)
    n128, n32 = (ratios("kerasette, NumPy update", 128),
                 ratios("kerasette, NumPy update", 32))
    expected = [min(k128), max(k128), min(k32), max(k32), statistics.median(k128),
                statistics.median(k32), min(n128), max(n128), min(n32), max(n32)]
    for i, value in enumerate(expected, start=1):
        _check("performance: the spread over the four runs", m.group(i), value)


def test_accuracy_sentence_matches_run_5():
    m = _sentence(r"Test accuracy after 2 epochs in the same run: kerasette ([\d.]+)% "
                  r"\(batch 128\) and ([\d.]+)% \(batch 32\) \(([\d.]+)% and ([\d.]+)% with "
                  r"the NumPy update.*?PyTorch ([\d.]+)% and ([\d.]+)%; tf.keras ([\d.]+)% and "
                  r"([\d.]+)%")
    column = "test accuracy after 2 epochs"
    shown = iter(m.groups())
    for system in ("kerasette", "kerasette, NumPy update", "PyTorch", "tf.keras"):
        for batch in (128, 32):
            _check(f"performance: {system}'s test accuracy at batch {batch}", next(shown),
                   _value(_row(_mlp(5, batch), system)[column])[0])


def test_cnn_memory_reuse_figure_is_run_2():
    m = _sentence(r"to ([\d.]+) s \(run 2 of `benchmarks/RESULTS.md`\)")
    _check("performance, host memory reuse: the CNN epoch", m.group(1) + " s",
           _seconds(_table("MNIST CNN (examples/mnist_cnn.py's network)"), "kerasette"))


def test_gpu_table_matches_the_gpu_run():
    gpu = _readme_table("batch")
    for batch, row in gpu.items():
        rows = _table("GPU: MNIST MLP", f"batch {batch}")
        _check(f"GPU row {batch}, kerasette", row["kerasette (CuPy)"],
               _seconds(rows, "kerasette"))
        _check(f"GPU row {batch}, PyTorch", row["PyTorch CUDA"], _seconds(rows, "PyTorch CUDA"))
        _check(f"GPU row {batch}, ratio", row["kerasette / PyTorch"],
               _value(_row(rows, "kerasette")["/ PyTorch CUDA"])[0])


def test_busy_machine_table_matches_its_runs():
    busy = _readme_table("workload", nth=1)  # the performance table is the first
    sections = {"MNIST MLP epoch, batch 128": ("MLP, batch 128 (60,000 images)"),
                "MNIST MLP epoch, batch 32": ("MLP, batch 32 (60,000 images)"),
                "MNIST CNN epoch, 12,000 images": ("CNN (`examples/mnist_cnn.py`'s network), "
                                                    "batch 128, 12,000 images")}
    assert set(sections) <= set(busy), sorted(busy)
    for where, h3 in sections.items():
        rows, row = _table("A busy machine", h3), busy[where]
        ours = _row(rows, "kerasette")
        for column in ("quiet", "beside 1 busy process", "loaded / quiet"):
            _check(f"busy-machine row {where!r}, {column}", row[column],
                   _value(ours[column])[0])
        _check(f"busy-machine row {where!r}, before", row["before (2 threads fixed), "
                                                          "loaded / quiet"],
               _value(_row(rows, "kerasette, fixed BLAS threads")["loaded / quiet"])[0])


# -- the examples' docstrings ------------------------------------------------------------------
def test_mnist_cnn_docstring_ratio_and_epoch_time():
    doc = _flat((ROOT / "examples" / "mnist_cnn.py").read_text(encoding="utf8"))
    rows = _run5("MNIST CNN (examples/mnist_cnn.py's network)")
    m = re.search(r"takes about ([\d.]+) s on two idle CPU cores \(([\d.]+)x PyTorch's time",
                  doc)
    assert m, "examples/mnist_cnn.py: the epoch-time sentence is gone or was reworded"
    assert _agrees(m.group(1) + " s", _seconds(rows, "kerasette")), (
        f"examples/mnist_cnn.py: epoch 'about {m.group(1)} s', RESULTS.md "
        f"{_seconds(rows, 'kerasette')} s")
    assert _agrees(m.group(2) + "x", _value(_row(rows, "kerasette")["/ PyTorch"])[0]), (
        f"examples/mnist_cnn.py: '{m.group(2)}x PyTorch's time', RESULTS.md "
        f"{_row(rows, 'kerasette')['/ PyTorch']}")


def test_no_example_quotes_an_unchecked_pytorch_ratio():
    """A new 'N.Nx PyTorch' figure in an example needs a check above."""
    checked = {"mnist_cnn.py"}
    for path in sorted((ROOT / "examples").glob("*.py")):
        if path.name not in checked:
            text = path.read_text(encoding="utf8")
            assert not re.search(r"[\d.]+x PyTorch", text), f"{path.name} quotes a ratio"
