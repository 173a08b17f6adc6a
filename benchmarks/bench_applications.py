"""MobileNetV2 inference against PyTorch's on the CPU (same threads, one run).

    python benchmarks/bench_applications.py                  # batch 32 of 224x224, 2 threads
    python benchmarks/bench_applications.py --threads 1 --clock cpu   # on a shared, busy machine
    python benchmarks/bench_applications.py --layers         # + where kerasette's time goes

The issue's target: `keras.applications.MobileNetV2(weights=None)` and
`model.predict(x)` on a batch of 32 images of 224x224x3 within 1.5x of
PyTorch's MobileNetV2 (torchvision's network: the same layers and
3,504,872 parameters; built here from `torch.nn`, so torchvision is not
needed) in eval mode under `torch.no_grad()`, with the same thread count.
Both get the same images (NHWC for kerasette, NCHW for PyTorch, its
native layout). Where numba is installed (the optional extra), kerasette is
also timed with its compiled loops switched off (`kerasette, NumPy only`:
the depthwise convolution and batch norm in NumPy).

Systems alternate repeat by repeat (A B A B ...) so drift in the machine's
speed hits both; the table gives medians (and the fastest repeat, less
disturbed by other processes on a shared machine) and their ratios. A rest
of `--pause` seconds before each timed call lets OpenMP/OpenBLAS worker
threads stop spinning. glibc's allocator is tuned as `predict` tunes it.

`--layers` adds kerasette's time per layer class (one extra timed pass that
runs the layers one by one, so without `predict`'s fused conv -> batch norm
-> ReLU steps, `kerasette/models/inference_fusion.py`), to see where the
time goes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402  (before numpy: pins the thread counts first)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--pause", type=float, default=0.3,
                        help="seconds of rest before each timed call (see the module doc)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: this process's CPU time, which time slices lost to other "
                             "processes do not inflate (meaningful with --threads 1 only)")
    parser.add_argument("--layers", action="store_true",
                        help="also print kerasette's time per layer class")
    return parser.parse_args(argv)


def torch_mobilenet_v2(torch):
    """torchvision's `mobilenet_v2()` network (width 1.0, 1000 classes) in `torch.nn`."""
    nn = torch.nn

    def conv_bn(cin, cout, k=3, stride=1, groups=1, relu=True):
        layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(cout)]
        return nn.Sequential(*layers, *([nn.ReLU6(inplace=True)] if relu else []))

    class InvertedResidual(nn.Module):
        def __init__(self, cin, cout, stride, expand):
            super().__init__()
            hidden = cin * expand
            self.residual = stride == 1 and cin == cout
            layers = [] if expand == 1 else [conv_bn(cin, hidden, 1)]
            layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden),
                       conv_bn(hidden, cout, 1, relu=False)]
            self.conv = nn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)

    class MobileNetV2(nn.Module):
        def __init__(self):
            super().__init__()
            feats, cin = [conv_bn(3, 32, 3, 2)], 32
            for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                               (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
                for i in range(n):
                    feats.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                    cin = c
            feats.append(conv_bn(cin, 1280, 1))
            self.features = nn.Sequential(*feats)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

        def forward(self, x):
            x = nn.functional.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
            return self.classifier(x)

    return MobileNetV2().eval()


def layer_times(model, x):
    """Seconds per layer class for one pass of `model` on `x`, layer by layer."""
    from kerasette import ops

    values = {id(model.inputs[0] if isinstance(model.inputs, list) else model.inputs):
              ops.convert_to_tensor(x)}
    per_class = {}
    for layer in model.layers[1:]:
        node = layer._inbound_nodes[0]
        args = [values[id(t)] for t in node.input_tensors]
        start = time.perf_counter()
        out = layer(args if len(args) > 1 else args[0], training=False)
        seconds = time.perf_counter() - start
        values[id(node.output_tensors[0])] = out
        key = type(layer).__name__
        if key == "Conv2D":
            key += " {}x{}".format(*layer.kernel_size)
        per_class[key] = per_class.get(key, 0.0) + seconds
    return per_class


def main(argv=None):
    a = parse_args(argv)
    common.pin_threads(a.threads)
    import numpy as np

    import kerasette as keras
    from kerasette.backend.host_allocator import tune_host_allocator

    tune_host_allocator()  # as predict does
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, (a.batch, a.size, a.size, 3)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(a.size, a.size, 3))
    from kerasette.backend import conv_kernels

    def predict():
        return model.predict(x, batch_size=a.batch, verbose=0)

    def predict_numpy_only():
        saved = conv_kernels._module
        conv_kernels._module = False  # as without numba: the NumPy depthwise and batch norm
        try:
            return predict()
        finally:
            conv_kernels._module = saved

    systems = {"kerasette": predict}
    if conv_kernels.module() is not None:
        systems["kerasette, NumPy only"] = predict_numpy_only
    try:
        import torch

        torch.set_num_threads(a.threads)
        net = torch_mobilenet_v2(torch)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

        def torch_forward():
            with torch.no_grad():
                return net(xt)

        systems["PyTorch"] = torch_forward
    except ImportError:
        torch = None

    for fn in systems.values():  # warm up
        fn()
    times = {key: [] for key in systems}
    for _ in range(a.repeats):
        for key, fn in systems.items():
            time.sleep(a.pause)
            if a.clock == "cpu":
                start = time.process_time()
                fn()
                seconds = time.process_time() - start
            else:
                seconds, _ = common.timed(fn)
            times[key].append(seconds)

    print(f"# MobileNetV2 predict: batch {a.batch} of {a.size}x{a.size}x3, {a.threads} threads, "
          f"median (fastest) of {a.repeats}\n")
    print(common.machine_description())
    if torch is not None:
        print(f"PyTorch {torch.__version__}\n")
    ref = times.get("PyTorch")
    rows = []
    for key, ts in times.items():
        med = common.median(ts)
        ratio = None if ref is None else med / common.median(ref)
        fast = None if ref is None else min(ts) / min(ref)
        rows.append([key, f"{med * 1e3:.0f} ms ({min(ts) * 1e3:.0f})",
                     f"{common.fmt_ratio(ratio)} ({common.fmt_ratio(fast)})"])
    print(common.markdown_table(["system", "time", "/ PyTorch"], rows))
    if a.layers:
        per_class = layer_times(model, x)
        total = sum(per_class.values())
        print("\n" + common.markdown_table(
            ["kerasette layer class", "time", "share"],
            [[k, f"{v * 1e3:.0f} ms", f"{v / total:.0%}"]
             for k, v in sorted(per_class.items(), key=lambda kv: -kv[1])]))


if __name__ == "__main__":
    main()
