"""The benchmark sections. Each returns `(markdown, raw figures)`.

Imported by `run.py` after the thread counts are pinned.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import common
import systems
from common import fmt_ratio, fmt_seconds, markdown_table, median


@dataclass
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def nbytes(self):
        return sum(a.nbytes for a in (self.x_train, self.y_train, self.x_test, self.y_test))


def mnist(shape, rows=None):
    """MNIST as float32 in [0, 1], reshaped to `(n,) + shape`, integer labels;
    only the first `rows` training images when given."""
    import kerasette as keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train, y_train = x_train[:rows], y_train[:rows]

    def prepare(x):
        out = x.reshape((len(x),) + shape).astype(np.float32)
        out /= np.float32(255)
        return out

    return Data(prepare(x_train), y_train.astype(np.int64), prepare(x_test),
                y_test.astype(np.int64))


def iris():
    """The bundled Iris data, standardised, all 150 rows for training."""
    import kerasette as keras

    (x, y), _ = keras.datasets.iris.load_data()
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    return Data(x, y.astype(np.int64), x, y.astype(np.int64))


class Remote:
    """A system living in a process of its own.

    TensorFlow, PyTorch and OpenBLAS each keep thread pools that spin for a
    while after their work; in one process those threads steal the cores
    from whichever system runs next (a kerasette epoch took 19 s instead of
    3 s right after a tf.keras epoch). One process per system, driven in
    turn, keeps the alternation without the interference. The epoch is
    timed inside the worker, so the pipe costs nothing.
    """

    def __init__(self, kind, network, batch_size, device="cpu", rows=None):
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve,
                                   args=(child, kind, network, batch_size, device, rows),
                                   daemon=True)
        self.process.start()
        self.name = self._call("name")

    def _call(self, command):
        self.conn.send(command)
        status, value = self.conn.recv()
        if status == "error":
            raise RuntimeError(f"benchmark worker failed: {value}")
        return value

    def epoch(self):
        return self._call("epoch")

    def test_accuracy(self):
        return self._call("accuracy")

    def close(self):
        self.conn.send("stop")
        self.process.join(timeout=60)


_SHAPES = {"mlp": (784,), "cnn": (28, 28, 1), "small_cnn": (28, 28, 1)}



def _fixed_blas_threads():
    from kerasette.backend import blas_library

    library = blas_library.find()
    return {} if library is None else {"KERASETTE_BLAS_THREADS": str(library.get())}


# kerasette's systems: (name in the report, environment set in the system's
# own process before it builds the model, built with keras.Input/Model).
_KERASETTE_VARIANTS = {
    "kerasette": ("kerasette", dict, False),
    # The same network built with keras.Input and keras.Model: a chain of
    # layers, which takes the same direct step as the Sequential one.
    "kerasette_functional": ("kerasette, functional", dict, True),
    # The optimizer's compiled update (numba) switched off: what the
    # kernels save, measured in the same session.
    "kerasette_numpy_update": ("kerasette, NumPy update",
                               lambda: {"KERASETTE_CPU_KERNELS": "0"}, False),
    # The BLAS threads fixed at the library's count (what kerasette did
    # before it chose them): the busy-machine comparison.
    "kerasette_fixed_threads": ("kerasette, fixed BLAS threads", _fixed_blas_threads, False),
    # One BLAS thread, quiet or not: with N busy processes on N+1 cores it is
    # what the machine has left to give, the loaded epoch's floor.
    "kerasette_one_thread": ("kerasette, 1 BLAS thread",
                             lambda: {"KERASETTE_BLAS_THREADS": "1"}, False),
}

def build_system(kind, network, batch_size, device="cpu", rows=None):
    """One system, with its own copy of the data (`rows` training images)."""
    if device == "cuda" and kind == "kerasette":
        import kerasette as keras

        keras.backend.set_backend("cupy")
    data = iris() if network == "iris" else mnist(_SHAPES[network], rows)
    if kind in _KERASETTE_VARIANTS:
        name, environment, functional = _KERASETTE_VARIANTS[kind]
        os.environ.update(environment())  # this system's own process: see the table
        system = systems.KerasLike("kerasette", network, data, batch_size,
                                   functional=functional)
        system.name = name
        return system
    if kind == "torch":
        return systems.Torch(network, data, batch_size, device=device)
    if kind == "tf_keras":
        return systems.KerasLike("tf_keras", network, data, batch_size)
    if kind == "floor":
        return systems.GemmFloor(data, batch_size)
    raise ValueError(f"unknown system {kind!r}")


def _serve(conn, kind, network, batch_size, device, rows=None):
    """The worker's loop: build the system, then run commands until "stop"."""
    try:
        system = build_system(kind, network, batch_size, device, rows)
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", repr(exc)))
        return
    while True:
        command = conn.recv()
        try:
            if command == "stop":
                return
            if command == "name":
                conn.send(("ok", system.name))
            elif command == "epoch":
                seconds, _ = common.timed(system.epoch)
                conn.send(("ok", seconds))
            elif command == "accuracy":
                conn.send(("ok", system.test_accuracy()))
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            conn.send(("error", repr(exc)))


def make_systems(network, batch_size, skip, with_floor=False, device="cpu", load=0,
                 rows=None, functional=False):
    """The systems available here, kerasette first, each in its own process
    (with `functional`, also kerasette's functional build of the network)."""
    kinds = ["kerasette"]
    if functional and "functional" not in skip:
        kinds.append("kerasette_functional")
    if load and device == "cpu" and "fixed_threads" not in skip:
        kinds.append("kerasette_fixed_threads")
    if load and device == "cpu" and "one_thread" not in skip:
        kinds.append("kerasette_one_thread")
    if (with_floor and device == "cpu" and "numpy_update" not in skip
            and systems.available("numba")):
        kinds.append("kerasette_numpy_update")
    if "torch" not in skip and systems.available("torch"):
        kinds.append("torch")
    if "tf_keras" not in skip and device == "cpu" and systems.available("tf_keras"):
        kinds.append("tf_keras")
    if with_floor:
        kinds.append("floor")
    return [Remote(kind, network, batch_size, device, rows) for kind in kinds]


def alternate_epochs(made, repeats, accuracy_after=2):
    """Times `repeats` epochs of each system, alternating; returns per-system
    epoch times and the test accuracy after `accuracy_after` epochs."""
    times = {s.name: [] for s in made}
    accuracy = {}
    for epoch in range(max(repeats, accuracy_after)):
        for s in made:
            start = time.perf_counter()
            result = s.epoch()  # a Remote returns the time measured in its process
            seconds = result if isinstance(result, float) else time.perf_counter() - start
            times[s.name].append(seconds)
            print(f"  {s.name}: epoch {epoch + 1} {seconds:.2f} s", file=sys.stderr, flush=True)
            if epoch + 1 == accuracy_after:
                accuracy[s.name] = s.test_accuracy()
    return times, accuracy


def epoch_table(title, made, times, accuracy, reference="PyTorch", floor="GEMM floor"):
    """Markdown: median epoch time per system, ratios to PyTorch and the floor."""
    med = {name: median(t) for name, t in times.items()}
    rows = []
    for s in made:
        t = med[s.name]
        ref = med.get(reference)
        fl = med.get(floor)
        acc = accuracy.get(s.name)
        rows.append([s.name, fmt_seconds(t), fmt_ratio(t / ref if ref else None),
                     fmt_ratio(t / fl if fl else None),
                     "—" if acc is None else f"{100 * acc:.2f}%"])
    table = markdown_table(["system", "epoch (median)", f"/ {reference}", f"/ {floor}",
                            "test accuracy after 2 epochs"], rows)
    return f"{title}\n\n{table}", {"median_s": med, "all_s": times, "accuracy": accuracy}


def _images(rows):
    return f"{min(rows or 60_000, 60_000):,}"


def _timed_systems(network, batch_size, skip, repeats, load, rows, **options):
    """`(systems, quiet epoch times, accuracies, loaded epoch times)` of one
    network's systems, their processes closed afterwards."""
    made = make_systems(network, batch_size, skip, load=load, rows=rows, **options)
    try:
        times, accuracy = alternate_epochs(made, repeats)
        return made, times, accuracy, loaded_epochs(made, repeats, load)
    finally:
        for s in made:
            s.close()


def mlp(threads, skip, repeats, batch_sizes, load=0, rows=None, **_):
    """One MNIST epoch of the MLP at each batch size, all systems alternating
    (then again beside `load` busy processes, when asked)."""
    parts = [f"## MNIST MLP (784-512-128-10, relu, Adam 1e-3), one epoch of {_images(rows)}"]
    raw = {}
    for b in batch_sizes:
        made, times, accuracy, loaded = _timed_systems(
            "mlp", b, skip, repeats, load, rows, with_floor=True, functional=True)
        md, r = epoch_table(f"### batch {b}", made, times, accuracy)
        parts.append(md)
        if load:
            md, r["loaded"] = load_table(f"### batch {b}, beside {_busy(load)}", made,
                                         times, loaded)
            parts.append(md)
        raw[b] = r
    return "\n\n".join(parts), raw


def cnn(threads, skip, repeats, load=0, rows=None, **_):
    """One MNIST epoch of the courses' CNN and of the small CNN at batch 128
    (then again beside `load` busy processes, when asked)."""
    parts, raws = [], {}
    titles = {"cnn": "examples/mnist_cnn.py's network",
              "small_cnn": "the small CNN: Conv2D 16 and 32, Dense(10)"}
    for network, what in titles.items():
        made, times, accuracy, loaded = _timed_systems(network, 128, skip, repeats, load, rows)
        title = f"## MNIST CNN ({what}), batch 128, one epoch of {_images(rows)}"
        md, raw = epoch_table(title, made, times, accuracy)
        if load:
            table, raw["loaded"] = load_table(f"### beside {_busy(load)}", made, times, loaded)
            md += "\n\n" + table
        parts.append(md)
        raws[network] = raw
    return "\n\n".join(parts), raws


# -- a busy machine ---------------------------------------------------------------------------
# A plain Python loop: one core's worth of CPU, no memory traffic to speak of.
# It checks now and then that the benchmark that started it is still there,
# so that it ends even if that process is killed outright.
_BUSY_LOOP = """
import os
parent = os.getppid()
while os.getppid() == parent:
    for _ in range(1_000_000):
        pass
"""


class BusyProcesses:
    """`count` CPU-bound processes for the duration of a `with` block.

    They stop when the block ends (normally, on an exception or on Ctrl-C)
    and, should the benchmark itself be killed, within a fraction of a
    second by themselves.
    """

    def __init__(self, count):
        self.count = count
        self.processes = []

    def __enter__(self):
        try:
            for _ in range(self.count):
                self.processes.append(subprocess.Popen([sys.executable, "-c", _BUSY_LOOP]))
            time.sleep(1.0)  # started and running before anything is timed
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def stop(self):
        for p in self.processes:
            p.kill()
        for p in self.processes:
            p.wait()
        self.processes = []


def _busy(load):
    return f"{load} busy process{'es' if load > 1 else ''}"


def loaded_epochs(made, repeats, load):
    """The same alternation with `load` busy processes beside it (None when 0)."""
    if not load:
        return None
    print(f"  (now beside {_busy(load)})", file=sys.stderr, flush=True)
    with BusyProcesses(load):
        times, _ = alternate_epochs(made, repeats, accuracy_after=0)
    return times


def load_table(title, made, quiet, loaded):
    """Markdown: each system's median epoch quiet and loaded, and their ratio."""
    rows, raw = [], {"median_s": {}, "all_s": loaded, "loaded_over_quiet": {}}
    for s in made:
        q, ld = median(quiet[s.name]), median(loaded[s.name])
        raw["median_s"][s.name] = ld
        raw["loaded_over_quiet"][s.name] = ld / q
        rows.append([s.name, fmt_seconds(q), fmt_seconds(ld), fmt_ratio(ld / q)])
    table = markdown_table(["system", "quiet (median)", "loaded (median)", "loaded / quiet"],
                           rows)
    return f"{title}\n\n{table}", raw


# -- tiny models ------------------------------------------------------------------------------
def _per_call_us(fn, calls, rounds=5):
    """Median over `rounds` of the mean microseconds per call of `fn`."""
    fn()
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - start) / calls * 1e6)
    return median(out)


def _keras_tiny(module_name, data, epochs, calls):
    s = systems.KerasLike(module_name, "iris", data, batch_size=20)
    model, x = s.model, data.x_train
    steps = -(-len(x) // 20) * epochs
    s.model.fit(x, data.y_train, batch_size=20, epochs=2, verbose=0)  # warm up

    def train():
        model.fit(x, data.y_train, batch_size=20, epochs=epochs, verbose=0)

    row = x[:1]
    return {
        "train_step_us": _per_call_us(train, 1) / steps,
        "predict_us": _per_call_us(lambda: model.predict(row, verbose=0), calls),
        "call_us": _per_call_us(lambda: model(row), calls),
    }


def _torch_tiny(data, epochs, calls):
    import torch

    s = systems.Torch("iris", data, batch_size=20)
    steps = -(-len(data.x_train) // 20) * epochs

    def train():
        for _ in range(epochs):
            s.epoch()

    row = s.x_train[:1]

    def forward():
        with torch.no_grad():
            return s.model(row).numpy()

    s.model.eval()
    return {"train_step_us": _per_call_us(train, 1) / steps,
            "predict_us": _per_call_us(forward, calls), "call_us": None}


# Every system's training step is one `fit` (or loop) of this many epochs,
# divided by its steps: fewer epochs would spread `fit`'s set-up over fewer
# steps (tf.keras's step read about 2x its 30-epoch figure at 3 epochs).
TINY_EPOCHS = 100


def tiny(threads, skip, **_):
    """The Iris network: per-step and per-row latencies."""
    data = iris()
    raw = {"kerasette": _keras_tiny("kerasette", data, epochs=TINY_EPOCHS, calls=2000)}
    if "torch" not in skip and systems.available("torch"):
        raw["PyTorch"] = _torch_tiny(data, epochs=TINY_EPOCHS, calls=2000)
    if "tf_keras" not in skip and systems.available("tf_keras"):
        # Fewer predict calls only: tf.keras's single-row predict takes ~40 ms.
        raw["tf.keras"] = _keras_tiny("tf_keras", data, epochs=TINY_EPOCHS, calls=20)

    def us(v):
        return "—" if v is None else f"{v:,.0f} µs"

    rows = [[name, us(r["train_step_us"]), us(r["predict_us"]), us(r["call_us"])]
            for name, r in raw.items()]
    table = markdown_table(["system", "training step (fit, batch 20)",
                            "single-row predict", "single-row model(x)"], rows)
    note = ("PyTorch's `predict` column is a forward pass under `no_grad` plus `.numpy()`; "
            "it has no `predict` with batching and callbacks.")
    return ("## Tiny model: the Iris network (4-20-20-3, tanh, Adam, batch 20), "
            f"medians of 5 rounds\n\n{table}\n\n{note}"), raw


# -- import time and memory (in fresh processes) ---------------------------------------------
_IMPORT_PROBE = """
import time
import numpy, h5py
t = time.perf_counter()
import kerasette
print(time.perf_counter() - t)
"""

_BASE_PROBE = """
import time
t = time.perf_counter()
import numpy, h5py
print(time.perf_counter() - t)
"""


def _python(code, env=None):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    return out.stdout.strip().splitlines()[-1]


def import_time(**_):
    """`import kerasette` in a fresh process, after numpy and h5py are loaded."""
    extra, base = [], []
    for _ in range(7):
        base.append(float(_python(_BASE_PROBE)))
        extra.append(float(_python(_IMPORT_PROBE)))
    raw = {"kerasette_above_numpy_h5py_s": median(extra), "numpy_h5py_s": median(base)}
    md = ("## Import time (fresh processes, median of 7)\n\n" + markdown_table(
        ["import", "time"],
        [["numpy, h5py", fmt_seconds(raw["numpy_h5py_s"])],
         ["kerasette, above numpy and h5py", fmt_seconds(raw["kerasette_above_numpy_h5py_s"])]]))
    return md, raw


_MEMORY_PROBE = """
import json
import numpy as np
import kerasette as keras
def status_mb(field):
    # /proc, not ru_maxrss: Linux carries ru_maxrss over from the parent
    # through fork and exec, so a child of a big process reports its peak.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
before = status_mb("VmRSS")
(x, y), _ = keras.datasets.mnist.load_data()
x = x.reshape(len(x), 784).astype(np.float32)
x /= np.float32(255)
inputs = (x.nbytes + y.nbytes) / 2**20
keras.utils.set_random_seed(1)
model = keras.Sequential([keras.layers.Dense(512, activation="relu", input_shape=(784,)),
                          keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=128, epochs=1, verbose=0)
peak = status_mb("VmHWM")
print(json.dumps({"rss_after_import_mb": before, "peak_rss_mb": peak, "inputs_mb": inputs}))
"""


def memory(**_):
    """Peak RSS of a full MNIST fit, above the process after `import kerasette`."""
    raw = json.loads(_python(_MEMORY_PROBE))
    raw["peak_above_import_mb"] = raw["peak_rss_mb"] - raw["rss_after_import_mb"]
    raw["overhead_mb"] = raw["peak_above_import_mb"] - raw["inputs_mb"]
    md = ("## Memory: one epoch of `fit` on the full MNIST training set (float32)\n\n"
          + markdown_table(["quantity", "MB"], [
              ["input arrays (x_train float32, y_train)", f"{raw['inputs_mb']:.0f}"],
              ["peak RSS above the process after `import kerasette`",
               f"{raw['peak_above_import_mb']:.0f}"],
              ["peak beyond the inputs (loading included)", f"{raw['overhead_mb']:.0f}"]]))
    return md, raw


# -- GPU --------------------------------------------------------------------------------------
def gpu_mlp(repeats, skip):
    """The MLP at batch 128 and 1024 on the CuPy backend against PyTorch CUDA."""
    parts, raw = ["## GPU: MNIST MLP on the CuPy backend against PyTorch CUDA"], {}
    for b in (128, 1024):
        made = make_systems("mlp", b, skip, device="cuda")
        try:
            times, accuracy = alternate_epochs(made, repeats)
        finally:
            for s in made:
                s.close()
        md, r = epoch_table(f"### batch {b}", made, times, accuracy,
                            reference="PyTorch CUDA")
        parts.append(md)
        raw[b] = r
    return "\n\n".join(parts), raw


# -- the regression guard ---------------------------------------------------------------------
NOT_COMPARABLE = 3  # the exit status when the baseline comes from another processor


def quick_guard(baseline_path: Path, threads: int, record: bool = False, rounds: int = 7):
    """kerasette/floor for MLP steps at batch 128, against the recorded ratio.

    Trains on the first 7,680 images (60 steps) per round, alternating with
    the floor's products for the same batches; the ratio of medians is
    compared with `baseline.json`. Exits 1 when it is more than 25% above.
    """
    full = mnist((784,))
    n = 60 * 128
    data = Data(full.x_train[:n], full.y_train[:n], full.x_test[:1000], full.y_test[:1000])
    made = [systems.KerasLike("kerasette", "mlp", data, 128), systems.GemmFloor(data, 128)]
    times, _ = alternate_epochs(made, rounds, accuracy_after=0)
    ratio = median(times["kerasette"]) / median(times["GEMM floor"])
    from kerasette.backend import cpu_kernels

    # The compiled optimizer update (numba) takes about a fifth off the ratio:
    # each way of updating has its own recorded figure.
    key = f"mlp128_over_floor_{threads}_threads" + (
        "_numba" if cpu_kernels.unavailable_reason() is None else "")
    recorded = json.loads(baseline_path.read_text()) if baseline_path.exists() else {}
    cpu = common.cpu_name()
    if record:
        if recorded.get("cpu") != cpu:
            recorded = {}  # another machine's ratios do not carry over
        recorded.update({key: round(ratio, 3), "cpu": cpu,
                         "recorded": time.strftime("%Y-%m-%d")})
        baseline_path.write_text(json.dumps(recorded, indent=1) + "\n")
    if recorded.get("cpu", cpu) != cpu:
        # The ratio depends on the processor (vector width, cache, BLAS
        # kernels): 1.52 on the 2-core EPYC became 2.0 on a 16-core Xeon
        # with nothing changed. Compare only like with like.
        print(f"kerasette/floor for the MLP step at batch 128 ({threads} threads): {ratio:.3f}; "
              f"the baseline was recorded on {recorded['cpu']!r}, this is {cpu!r}: not "
              "comparable. Record one here with --quick --record.")
        return NOT_COMPARABLE
    limit = recorded.get(key)
    print(f"kerasette/floor for the MLP step at batch 128 ({threads} threads): {ratio:.3f}"
          + (f"; recorded {limit:.3f}, limit {1.25 * limit:.3f}" if limit else
             "; nothing recorded for this thread count"))
    if limit and ratio > 1.25 * limit:
        print("REGRESSION: the MLP step is more than 25% slower relative to its matrix "
              "products than recorded in benchmarks/baseline.json.")
        return 1
    return 0


from recipes import recipes  # noqa: E402 - the course recipes (benchmarks/recipes.py)

SECTIONS = {"mlp": mlp, "cnn": cnn, "tiny": tiny, "import": import_time, "memory": memory,
            "recipes": recipes}
