"""kerasette's benchmarks: one command, every system in one session, medians and ratios.

    python benchmarks/run.py                  # everything available, 2 threads
    python benchmarks/run.py --quick          # regression guard, under a minute
    python benchmarks/run.py --only mlp,tiny  # some sections
    python benchmarks/run.py --gpu            # CuPy backend against PyTorch CUDA
    python benchmarks/run.py --only mlp,cnn --load 1   # quiet, then beside a busy process

Sections (see benchmarks/README.md for what each one measures and why):
    mlp     one MNIST epoch of 784-512-128-10 at batch 128 and 32: kerasette,
            PyTorch eager (if `torch` imports), tf.keras (if `tf_keras`
            imports) and the GEMM floor; test accuracy after 2 epochs
    cnn     one MNIST epoch of the courses' CNN at batch 128: kerasette,
            PyTorch, tf.keras
    tiny    the Iris network: microseconds per training step, per single-row
            `predict` and per `model(x)`
    import  `import kerasette` time above `import numpy, h5py`
    memory  peak resident memory of a full MNIST `fit` against its inputs

Systems alternate epoch by epoch (A B A B ...) so that drift in the
machine's speed hits all of them; the tables report medians. Every system
gets the same thread count (`--threads`, default 2), set before NumPy,
PyTorch or TensorFlow load. MNIST comes from `kerasette.datasets.mnist`
(point `KERASETTE_HOME` at a folder with `datasets/mnist.npz` to run
offline).

`--load N` measures a busy machine: the mlp and cnn sections time their
epochs again with N CPU-bound processes (plain Python loops) running, in
the same worker processes, and report each system's loaded median beside
its quiet one.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402  (before numpy: pins the thread counts first)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2,
                        help="BLAS/OpenMP threads for every system (default 2)")
    parser.add_argument("--only", default="mlp,cnn,tiny,import,memory",
                        help="comma-separated sections to run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed epochs per system for mlp and cnn (median reported)")
    parser.add_argument("--batch-sizes", default="128,32", help="MLP batch sizes")
    parser.add_argument("--skip", default="",
                        help="comma-separated systems to leave out: torch, tf_keras, "
                             "numpy_update (kerasette with its numba update switched off), "
                             "fixed_threads (with --load: kerasette with its BLAS threads "
                             "fixed, as before it chose them), one_thread (with --load: "
                             "kerasette with 1 BLAS thread), functional (mlp: kerasette's "
                             "keras.Model build of the same network)")
    parser.add_argument("--gpu", action="store_true",
                        help="MLP at batch 128 and 1024 on the CuPy backend and PyTorch CUDA")
    parser.add_argument("--quick", action="store_true",
                        help="regression guard: kerasette/floor for the MLP step against "
                             "benchmarks/baseline.json; exit 1 on a regression over 25%%")
    parser.add_argument("--record", action="store_true",
                        help="with --quick: write the measured ratio to baseline.json")
    parser.add_argument("--rows", type=int, default=None,
                        help="mlp and cnn: train on the first ROWS MNIST images (default all "
                             "60,000)")
    parser.add_argument("--load", type=int, default=0,
                        help="mlp and cnn: after the quiet epochs, time as many again beside "
                             "this many CPU-bound processes and report both (default 0)")
    parser.add_argument("--out", default=None, help="write the Markdown report here")
    parser.add_argument("--json", default=None, help="write the raw figures here")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    common.pin_threads(args.threads)
    import sections  # noqa: E402  (imports numpy: after pin_threads)

    if args.quick:
        return sections.quick_guard(HERE / "baseline.json", threads=args.threads,
                                    record=args.record)

    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(wanted) - set(sections.SECTIONS)
    if unknown:
        raise SystemExit(f"--only: unknown sections {sorted(unknown)}; "
                         f"choose from {sorted(sections.SECTIONS)}")
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]

    header = [
        "# kerasette benchmarks",
        "",
        f"Measured {datetime.date.today().isoformat()} with `python benchmarks/run.py "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}".rstrip() + "`.",
        "",
        f"Machine: {common.machine_description()}; {args.threads} threads for every "
        f"system; load average before the run {os.getloadavg()[0]:.2f}"
        + (f"; {args.load} busy processes beside the loaded epochs." if args.load else "."),
        "",
    ]
    print("\n".join(header), flush=True)
    parts, figures = header, {}
    for name in wanted:
        kwargs = {"threads": args.threads, "skip": skip, "repeats": args.repeats,
                  "batch_sizes": batch_sizes, "gpu": False, "load": args.load,
                  "rows": args.rows}
        markdown, raw = sections.SECTIONS[name](**kwargs)
        print(markdown + "\n", flush=True)
        parts += [markdown, ""]
        figures[name] = raw
    if args.gpu:
        markdown, raw = sections.gpu_mlp(repeats=args.repeats, skip=skip)
        print(markdown + "\n", flush=True)
        parts += [markdown, ""]
        figures["gpu"] = raw
    if args.out:
        Path(args.out).write_text("\n".join(parts))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
