"""kerasette against tf.keras 2 on the IMDB training step (CPU, same threads).

    /tmp/tfenv/bin/python benchmarks/rnn_vs_tf_keras.py            # LSTM and GRU, 2 threads
    python benchmarks/rnn_vs_tf_keras.py --cells gru --repeats 11 --threads 1
    python benchmarks/rnn_vs_tf_keras.py --kerasette-python /work/venv/bin/python
    python benchmarks/rnn_vs_tf_keras.py --mode train_on_batch

Needs TensorFlow and tf_keras next to kerasette. The step is the course's
IMDB sentiment model, built the same way in both:
`Sequential([Input((200,), int32), Embedding(20000, 128), LSTM(128) or
GRU(128), Dense(1, "sigmoid")])`, `compile(Adam(1e-3), "binary_crossentropy")`,
trained on 64 sequences of 200 synthetic token ids a batch (forward,
gradients, Adam update). tf.keras runs its compiled `tf.function` step with
`tf.config.threading.set_intra_op_parallelism_threads(THREADS)` and one
inter-op thread; kerasette gets at most as many BLAS/OpenMP threads. One
timed call is `fit` over `--fit-batches` batches (the default: what a course
script runs; kerasette's `fit` lowers its BLAS threads when other processes
keep cores busy) or, with `--mode train_on_batch`, one `train_on_batch`
with kerasette's BLAS threads fixed at THREADS.

Each system lives in a process of its own (TensorFlow's and OpenBLAS's
spinning worker threads would otherwise steal the cores from whichever
system runs next; see `sections.Remote`), warms up, and is then driven in
turn, one timed call per system per repeat (A B A B ...), with a short rest
before each timed call. The table gives the median seconds per batch, the
fastest batch, the projected epoch of 25,000 sequences (391 batches) and
tf.keras's time over kerasette's (above 1: kerasette is faster).

`--kerasette-python` adds kerasette run by another interpreter (for example
one with numba, kerasette's optional extra, which compiles the recurrent
step loops); the default runs kerasette in this interpreter only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402  (before numpy: pins the thread counts first)

EPOCH_SEQUENCES = 25_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7, help="timed batches per system")
    parser.add_argument("--warmup", type=int, default=3, help="untimed batches first")
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=20_000)
    parser.add_argument("--pause", type=float, default=0.3,
                        help="seconds of rest before each timed batch (see the module doc)")
    parser.add_argument("--mode", choices=("fit", "train_on_batch"), default="fit",
                        help="fit: one timed call is `fit` over --fit-batches batches "
                             "(kerasette then chooses its BLAS threads from the load, as "
                             "users get it); train_on_batch: one batch, threads fixed")
    parser.add_argument("--fit-batches", type=int, default=4)
    parser.add_argument("--kerasette-python", default=None,
                        help="also time kerasette under this interpreter")
    parser.add_argument("--json", default=None, help="write the raw figures here")
    parser.add_argument("--worker", nargs=2, metavar=("SYSTEM", "CELL"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _batch(a):
    import numpy as np

    rng = np.random.default_rng(0)
    tokens = rng.integers(1, a.vocab, size=(a.batch, a.steps)).astype("int32")
    labels = (np.arange(a.batch) % 2).astype("float32")[:, None]
    return tokens, labels


def _build(keras, cell, a):
    L = keras.layers
    recurrent = L.LSTM if cell == "lstm" else L.GRU
    model = keras.Sequential([keras.Input(shape=(a.steps,), dtype="int32"),
                              L.Embedding(a.vocab, a.features), recurrent(a.units),
                              L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


def worker(system, cell, a):
    """Serves one system: builds, warms up, then times one batch per line
    read on stdin ("step"), answering one JSON line each."""
    common.pin_threads(a.threads)
    if system == "tf_keras":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        import tf_keras as keras

        keras.utils.set_random_seed(1)
        name = f"tf.keras {keras.__version__} (TensorFlow {tf.__version__})"
    else:
        if a.mode == "train_on_batch":
            # Fixed like tf.keras's pool. `fit` chooses kerasette's BLAS
            # threads from the machine's load, at most `threads`
            # (kerasette/backend/threads.py); `train_on_batch` does not.
            os.environ["KERASETTE_BLAS_THREADS"] = str(a.threads)
        import kerasette as keras

        keras.utils.set_random_seed(1)
    import numpy as np

    tokens, labels = _batch(a)
    model = _build(keras, cell, a)
    if a.mode == "fit":  # the same batch `fit_batches` times, in one call
        tokens = np.concatenate([tokens] * a.fit_batches)
        labels = np.concatenate([labels] * a.fit_batches)

    def one_call():
        if a.mode == "fit":
            history = model.fit(tokens, labels, batch_size=a.batch, epochs=1, shuffle=False,
                                verbose=0)
            return history.history["loss"][-1]
        return model.train_on_batch(tokens, labels)

    for _ in range(a.warmup):
        one_call()
    if system == "kerasette":
        from kerasette.backend import cpu_kernels

        numba = cpu_kernels.rnn_module() is not None
        name = f"kerasette {keras.__version__}" + (", numba" if numba else ", NumPy steps")
    print(json.dumps({"name": name}), flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            break
        start = time.perf_counter()
        loss = one_call()
        seconds = (time.perf_counter() - start) / (a.fit_batches if a.mode == "fit" else 1)
        loss = float(loss[0] if isinstance(loss, (list, tuple)) else loss)
        print(json.dumps({"seconds": seconds, "loss": loss}), flush=True)


class Remote:
    """One system in its own interpreter, spoken to over a pipe."""

    def __init__(self, python, system, cell, argv):
        self.process = subprocess.Popen(
            [python, str(Path(__file__).resolve()), "--worker", system, cell, *argv],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
        self.name = self._read()["name"]

    def _read(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker exited (rc {self.process.wait()})")
        return json.loads(line)

    def step(self):
        self.process.stdin.write("step\n")
        self.process.stdin.flush()
        return self._read()

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _forwarded(a):
    return ["--threads", str(a.threads), "--warmup", str(a.warmup), "--batch", str(a.batch),
            "--mode", a.mode, "--fit-batches", str(a.fit_batches),
            "--steps", str(a.steps), "--units", str(a.units), "--features", str(a.features),
            "--vocab", str(a.vocab)]


def run(a):
    batches = math.ceil(EPOCH_SEQUENCES / a.batch)
    interpreters = [("kerasette", sys.executable), ("tf_keras", sys.executable)]
    if a.kerasette_python:
        interpreters.insert(1, ("kerasette", a.kerasette_python))
    print(f"# kerasette vs tf.keras 2, IMDB training step: batch {a.batch}, {a.steps} steps, "
          f"{a.units} units, vocabulary {a.vocab}; {a.threads} thread(s)")
    print(f"# {common.machine_description()}")
    call = (f"`fit` over {a.fit_batches} batches" if a.mode == "fit"
            else "`train_on_batch`, kerasette's BLAS threads fixed")
    print(f"# one timed call: {call}; {a.warmup} warm-up calls, then {a.repeats} timed "
          f"calls per system, alternating; epoch = {batches} batches "
          f"({EPOCH_SEQUENCES:,} sequences)\n")
    figures = {}
    for cell in a.cells.split(","):
        systems = [Remote(python, system, cell, _forwarded(a)) for system, python in interpreters]
        times = {s.name: [] for s in systems}
        try:
            for _ in range(a.repeats):
                for s in systems:
                    time.sleep(a.pause)
                    times[s.name].append(s.step()["seconds"])
        finally:
            for s in systems:
                s.close()
        tf_name = systems[-1].name
        tf_median = common.median(times[tf_name])
        print(f"{cell.upper()}({a.units}):\n")
        print("| system | s/batch (median) | fastest | epoch of 391 batches | "
              "tf.keras / this |")
        print("|---|---|---|---|---|")
        for name, values in times.items():
            med = common.median(values)
            print(f"| {name} | {med:.3f} | {min(values):.3f} | {med * batches:.0f} s | "
                  f"{tf_median / med:.2f} |")
        print()
        figures[cell] = times
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=1))


def main(argv=None):
    a = parse_args(argv)
    if a.worker:
        worker(*a.worker, a)
    else:
        run(a)


if __name__ == "__main__":
    main()
