"""The fused recurrent ops against PyTorch on an IMDB-shaped batch (CPU, same threads).

    python benchmarks/bench_rnn.py                    # LSTM and GRU, 2 threads, 7 repeats
    python benchmarks/bench_rnn.py --threads 1 --cells lstm --repeats 11
    python benchmarks/bench_rnn.py --threads 1 --clock cpu   # on a shared, busy machine

The shape is the course's IMDB sentiment model: Embedding(20,000, 128) ->
LSTM(128) or GRU(128) -> Dense(1, sigmoid), batch 64, sequences of 200
tokens. Four passes are timed for each cell:

* `forward`: the recurrent op alone on a (64, 200, 128) float32 input, no
  tape (PyTorch: `torch.no_grad()`);
* `forward+backward`: the op and the gradients of its input and weights,
  from the last step's output (PyTorch: `out[:, -1].sum().backward()`);
* `IMDB step`: the whole model's loss and the gradients of every weight:
  the embedding lookup (`kerasette.ops.embedding.embedding_lookup`, the
  Embedding layer's op, on a (20,000, 128) table; PyTorch `nn.Embedding`),
  the recurrent op, the Dense layer and the sigmoid cross-entropy. No
  optimizer update.
* `train_on_batch`: the same model built from layers
  (`Sequential([Embedding, LSTM or GRU, Dense(1, "sigmoid")])`, Adam,
  binary cross-entropy) and `model.train_on_batch`, against PyTorch's
  `zero_grad`, forward, `BCEWithLogitsLoss`, `backward`, `Adam.step`.

kerasette is measured twice: with the compiled step loops (numba, the
optional extra) and with them switched off (`kerasette, NumPy steps`), so
the run shows what numba adds. Systems alternate repeat by repeat
(A B C A B C ...) so drift in the machine's speed hits them all; the table
gives medians (and the fastest repeat, which is less disturbed by other
processes on a shared machine). The epoch projection multiplies the IMDB
step's and `train_on_batch`'s medians by the 391 batches of 25,000
sequences. Before each timed call
the benchmark rests `--pause` seconds: OpenMP and OpenBLAS worker threads
keep spinning for a while after a parallel call, and with two threads on
two cores they would steal a core from whichever system runs next. glibc's allocator is
tuned as `fit` tunes it (`kerasette/backend/host_allocator.py`).
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=20_000)
    parser.add_argument("--pause", type=float, default=0.3,
                        help="seconds of rest before each timed call (see the module doc)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: this process's CPU time, which time slices lost to other "
                             "processes do not inflate (meaningful with --threads 1 only)")
    return parser.parse_args(argv)


def kerasette_systems(cell, a, x_np, tokens_np, numba_steps):
    """`{pass: fn}` for kerasette's op; `numba_steps=False` switches the compiled steps off."""
    import numpy as np

    import kerasette
    from kerasette import ops
    from kerasette.backend import cpu_kernels
    from kerasette.ops import rnn

    rng = np.random.default_rng(0)
    n = {"lstm": 4, "gru": 3}[cell]
    u, f = a.units, a.features
    kernel = kerasette.Variable(rng.uniform(-0.1, 0.1, (f, n * u)).astype("float32"))
    rkernel = kerasette.Variable(rng.uniform(-0.1, 0.1, (u, n * u)).astype("float32"))
    bias = kerasette.Variable(np.zeros((2, n * u) if cell == "gru" else (n * u,), "float32"))
    table = kerasette.Variable(rng.uniform(-0.05, 0.05, (a.vocab, f)).astype("float32"))
    dense_w = kerasette.Variable(rng.uniform(-0.1, 0.1, (u, 1)).astype("float32"))
    dense_b = kerasette.Variable(np.zeros((1,), "float32"))
    x = ops.convert_to_tensor(x_np)
    tokens = ops.convert_to_tensor(tokens_np)
    labels = ops.convert_to_tensor((np.arange(a.batch) % 2).astype("float32")[:, None])
    op = getattr(rnn, cell)
    last = (slice(None), a.steps - 1)
    try:
        from kerasette.ops.embedding import embedding_lookup
    except ImportError:  # before the Embedding layer's op existed
        embedding_lookup = None

    def lookup(ids, rows):
        if embedding_lookup is None:
            return ops.take(rows, ids, axis=0)
        return embedding_lookup(ids, rows)
    switch = cpu_kernels.rnn_enabled

    def steps_off(fn):
        def run():
            if numba_steps:
                return fn()
            cpu_kernels.rnn_enabled = lambda xp, x: False
            try:
                return fn()
            finally:
                cpu_kernels.rnn_enabled = switch
        return run

    def forward():
        return op(x, kernel, rkernel, bias).data

    def forward_backward():
        with kerasette.GradientTape() as tape:
            tape.watch(x)
            y = ops.sum(ops.getitem(op(x, kernel, rkernel, bias), last))
        return tape.gradient(y, [x, kernel, rkernel, bias])

    def imdb_step():
        with kerasette.GradientTape() as tape:
            e = lookup(tokens, table)
            h = ops.getitem(op(e, kernel, rkernel, bias), last)
            logits = ops.matmul(h, dense_w) + dense_b
            # sigmoid cross-entropy from logits: max(l, 0) - l * y + log(1 + exp(-|l|))
            loss = ops.mean(ops.maximum(logits, 0.0) - logits * labels
                            + ops.log(1.0 + ops.exp(-ops.abs(logits))))
        return tape.gradient(loss, [table, kernel, rkernel, bias, dense_w, dense_b])

    model = kerasette.Sequential([
        kerasette.layers.Embedding(a.vocab, f),
        (kerasette.layers.LSTM if cell == "lstm" else kerasette.layers.GRU)(u),
        kerasette.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=kerasette.optimizers.Adam(1e-3), loss="binary_crossentropy")
    label_array = (np.arange(a.batch) % 2).astype("float32")[:, None]

    def train_on_batch():
        return model.train_on_batch(tokens_np, label_array)

    return {"forward": steps_off(forward), "forward+backward": steps_off(forward_backward),
            "IMDB step": steps_off(imdb_step), "train_on_batch": steps_off(train_on_batch)}


def torch_systems(cell, a, x_np, tokens_np):
    import numpy as np
    import torch

    torch.manual_seed(0)
    module = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(a.features, a.units,
                                                                  batch_first=True)
    embedding = torch.nn.Embedding(a.vocab, a.features)
    dense = torch.nn.Linear(a.units, 1)
    x = torch.tensor(x_np, requires_grad=True)
    tokens = torch.tensor(tokens_np.astype(np.int64))
    labels = torch.tensor((np.arange(a.batch) % 2).astype("float32")[:, None])
    params = list(module.parameters())
    every = params + list(embedding.parameters()) + list(dense.parameters())
    loss_fn = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(every, lr=1e-3)

    def zero(ps):
        for p in ps:
            p.grad = None

    def forward():
        with torch.no_grad():
            return module(x)[0]

    def forward_backward():
        zero(params + [x])
        out, _ = module(x)
        out[:, -1].sum().backward()

    def imdb_step():
        zero(every)
        out, _ = module(embedding(tokens))
        loss_fn(dense(out[:, -1]), labels).backward()

    def train_on_batch():
        optimizer.zero_grad()
        out, _ = module(embedding(tokens))
        loss_fn(dense(out[:, -1]), labels).backward()
        optimizer.step()

    return {"forward": forward, "forward+backward": forward_backward, "IMDB step": imdb_step,
            "train_on_batch": train_on_batch}


def main(argv=None):
    a = parse_args(argv)
    common.pin_threads(a.threads)
    import numpy as np

    systems = {}
    rng = np.random.default_rng(1)
    x_np = (rng.standard_normal((a.batch, a.steps, a.features)) * 0.05).astype("float32")
    tokens_np = rng.integers(1, a.vocab, (a.batch, a.steps)).astype("int32")
    cells = [c.strip() for c in a.cells.split(",") if c.strip()]
    have_torch = True
    try:
        import torch

        torch.set_num_threads(a.threads)
    except ImportError:
        have_torch = False
    from kerasette.backend import cpu_kernels
    from kerasette.backend.host_allocator import tune_host_allocator

    # As `fit` does: large temporaries are reused instead of page-faulted in
    # afresh each step (glibc settings for the whole process, PyTorch included).
    tune_host_allocator()
    numba_reason = cpu_kernels.unavailable_reason()
    for cell in cells:
        systems[(cell, "kerasette")] = kerasette_systems(cell, a, x_np, tokens_np, True)
        if numba_reason is None:
            systems[(cell, "kerasette, NumPy steps")] = kerasette_systems(cell, a, x_np,
                                                                          tokens_np, False)
        if have_torch:
            systems[(cell, "PyTorch")] = torch_systems(cell, a, x_np, tokens_np)

    passes = ("forward", "forward+backward", "IMDB step", "train_on_batch")
    times = {(key, p): [] for key in systems for p in passes}
    for fns in systems.values():  # warm up: numba compiles, caches fill
        for p in passes:
            fns[p]()
    for _ in range(a.repeats):
        for p in passes:
            for key, fns in systems.items():
                time.sleep(a.pause)
                if a.clock == "cpu":
                    start = time.process_time()
                    fns[p]()
                    seconds = time.process_time() - start
                else:
                    seconds, _ = common.timed(fns[p])
                times[(key, p)].append(seconds)

    print(f"# Fused recurrent ops: batch {a.batch}, {a.steps} steps, {a.features} features, "
          f"{a.units} units, {a.threads} threads, {a.clock} time, median (fastest) of "
          f"{a.repeats}\n")
    print(common.machine_description())
    print("compiled steps: " + ("numba" if numba_reason is None else numba_reason) + "\n")
    batches = -(-EPOCH_SEQUENCES // a.batch)
    rows = []
    for cell in cells:
        for p in passes:
            ref = times.get(((cell, "PyTorch"), p))
            ref_med = common.median(ref) if ref else None
            for key in systems:
                if key[0] != cell:
                    continue
                ts = times[(key, p)]
                med = common.median(ts)
                ratio = None if ref_med is None else med / ref_med
                fast_ratio = None if ref is None else min(ts) / min(ref)
                epoch = common.fmt_seconds(med * batches) if p in passes[2:] else ""
                rows.append([cell.upper(), p, key[1], f"{med * 1e3:.1f} ms ({min(ts) * 1e3:.1f})",
                             f"{common.fmt_ratio(ratio)} ({common.fmt_ratio(fast_ratio)})",
                             epoch])
    print(common.markdown_table(
        ["cell", "pass", "system", "time", "/ PyTorch", f"epoch ({batches} batches)"], rows))


if __name__ == "__main__":
    main()
