"""Convolution, batch norm and ReLU as one step when a graph runs for inference.

Image models repeat `Conv2D`/`DepthwiseConv2D` -> `BatchNormalization` ->
`ReLU` (MobileNet, MobileNetV2; ResNet with `Activation("relu")`), the
strided depthwise ones after a `ZeroPadding2D`. Run
layer by layer, each of the last two allocates an output as big as the
convolution's and reads and writes it once more; at batch 32 of 224x224
that is most of MobileNetV2's time outside the matrix products. Here,
when a functional model runs in inference mode with no tape recording, such
a chain runs as the convolution layer's own call, then the batch norm's
affine map and the ReLU applied in place on the convolution's fresh output
(`ops.nn.affine_channels`, `clip` / `maximum` with `out=`); a padding
before a depthwise convolution is read as zeros by the convolution
(`ops.conv.depthwise_conv2d_padded`) instead of being copied.

The arithmetic is the layers' own, step for step (the same `mult` and
`shift` as `BatchNormalization`'s inference op, the same `clip` as
`ReLU(max_value)`), so the outputs are the same bits as the layer-by-layer
run (tests/test_applications_numerics.py checks this). A chain qualifies
only where nothing else can see the intermediate tensors: each feeds only
the next layer and is no model output, and the layers are the built-in
classes with the convolution's activation linear, no activity regularizer,
and the batch norm on the last axis. Anything else, any training call,
and any other backend than NumPy run the plain way.
"""

from __future__ import annotations

import weakref

import numpy as np

from kerasette import activations
from kerasette.autodiff import state as _state
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.activation_layers import ReLU
from kerasette.layers.convolutional import Conv2D
from kerasette.layers.core import Activation
from kerasette.layers.node import KerasTensor
from kerasette.layers.normalization import BatchNormalization
from kerasette.layers.reshaping import ZeroPadding2D
from kerasette.layers.separable_conv import DepthwiseConv2D
from kerasette.ops.conv import depthwise_conv2d_padded
from kerasette.ops.core import xp
from kerasette.ops.nn import affine_channels, batch_norm_affine

_CONVOLUTIONS = (Conv2D, DepthwiseConv2D)


class _Chain:
    """One [zero padding ->] convolution -> batch norm [-> ReLU] chain of a graph."""

    def __init__(self, conv_node, bn_node, act_node, pad_node=None):
        self.conv_node, self.bn_node, self.act_node = conv_node, bn_node, act_node
        self.pad_node = pad_node
        self.skipped = {id(bn_node)} | ({id(act_node)} if act_node is not None else set())
        if pad_node is not None:
            self.skipped.add(id(conv_node))
        self.output = (act_node or bn_node).outputs

    def run(self, values):
        """Runs the chain on `values` (tensor id -> value) and stores its
        output; False (having done nothing) where it does not qualify now."""
        conv, bn = self.conv_node.layer, self.bn_node.layer
        if (conv._fused != "linear" or conv.activity_regularizer is not None
                or bn.axis != len(bn._build_input_shape) - 1 or xp() is not np):
            return False
        clip = self._clip()
        if clip is False:
            return False
        z = self._convolve(values, conv)
        if z is None:
            return False
        zd = z.data
        if (type(zd) is not np.ndarray or zd.dtype != np.dtype(bn.dtype)
                or not zd.flags.c_contiguous or zd.base is not None and not _owns(zd)):
            return False  # pragma: no cover - the convolution ops return fresh arrays
        gamma = None if bn.gamma is None else bn.gamma.data
        beta = None if bn.beta is None else bn.beta.data
        _, mult, shift = batch_norm_affine(bn.moving_mean.data, bn.moving_variance.data, beta,
                                           gamma, bn.epsilon)
        if mult.dtype != zd.dtype or shift.dtype != zd.dtype:
            return False  # pragma: no cover - float64 statistics: the plain way promotes
        if clip is not None and clip[1] is not None:  # ReLU(max_value)'s clip, in the same pass
            affine_channels(zd, mult, shift, out=zd, clip=clip)
        else:
            affine_channels(zd, mult, shift, out=zd)
            if clip is not None:
                np.maximum(zd, clip[0], out=zd)  # ops.relu's forward, in place
        values[id(self.output)] = z
        return True

    def _convolve(self, values, conv):
        """The convolution's output tensor (a fresh array), or None."""
        if self.pad_node is None:
            return conv(values[id(self.conv_node.inputs)], training=False)
        pad = self.pad_node.layer
        x = values[id(self.pad_node.inputs)]
        if (not isinstance(x, Tensor) or x.ndim != 4 or x.dtype != np.dtype(conv.dtype)
                or x.shape[-1] != conv._in_channels or conv.padding != "valid"
                or conv.depth_multiplier != 1 or pad.data_format not in (None, "channels_last")):
            return None
        # The padded copy is never made: the depthwise loop reads the zeros as zeros.
        return depthwise_conv2d_padded(x, conv.depthwise_kernel, conv.bias, pad.padding,
                                       conv.strides, conv.dilation_rate)

    def _clip(self):
        """`(0.0, max_value or None)` for the ReLU, None without one, False
        for an activation this step does not take."""
        if self.act_node is None:
            return None
        act = self.act_node.layer
        if type(act) is ReLU:
            if act.negative_slope != 0.0 or act.threshold != 0.0:
                return False
            return 0.0, None if act.max_value is None else float(act.max_value)
        if type(act) is Activation and act.activation is activations.relu:
            return 0.0, None
        return False


def _owns(array) -> bool:
    # A reshaped fresh product is a view of a base nothing else holds.
    base = array.base
    return isinstance(base, np.ndarray) and base.base is None and base.size == array.size


def _single_consumer(tensor, consumers, outputs):
    nodes = consumers.get(id(tensor), [])
    return nodes[0] if len(nodes) == 1 and id(tensor) not in outputs else None


# model -> (its run order, its chains); weak, and never copied or pickled
# with the model (the chains are keyed by the ids of this graph's nodes).
_PLANS = weakref.WeakKeyDictionary()


def plan(model):
    """`{id(first node): _Chain}` for `model`'s graph (made once per model)."""
    cached = _PLANS.get(model)
    if cached is not None and cached[0] is model._run_order:
        return cached[1]
    consumers = {}
    for node in model._run_order:
        for tensor in node.input_tensors:
            consumers.setdefault(id(tensor), []).append(node)
    outputs = {id(t) for t in model._outputs}
    chains = {}
    for node in model._run_order:
        if type(node.layer) is ZeroPadding2D and not node.kwargs:
            conv_node = _single_consumer(node.outputs, consumers, outputs)
            if conv_node is not None and type(conv_node.layer) is DepthwiseConv2D:
                node, pad_node = conv_node, node
            else:
                continue
        else:
            pad_node = None
        if (type(node.layer) not in _CONVOLUTIONS or node.kwargs
                or type(node.inputs) is not KerasTensor or type(node.outputs) is not KerasTensor):
            continue
        bn_node = _single_consumer(node.outputs, consumers, outputs)
        if (bn_node is None or type(bn_node.layer) is not BatchNormalization or bn_node.kwargs
                or type(bn_node.outputs) is not KerasTensor):
            continue
        act_node = _single_consumer(bn_node.outputs, consumers, outputs)
        if act_node is not None and (type(act_node.layer) not in (ReLU, Activation)
                                     or act_node.kwargs or type(act_node.outputs)
                                     is not KerasTensor):
            act_node = None
        chain = _Chain(node, bn_node, act_node, pad_node)
        if act_node is not None and chain._clip() is False:  # swish, a leaky ReLU: not here
            chain = _Chain(node, bn_node, None, pad_node)
        chains[id(node if pad_node is None else pad_node)] = chain
    _PLANS[model] = (model._run_order, chains)
    return chains


def chains_for(model, training):
    """The chains to run fused in this call, or None (training, a tape
    recording, another backend, or none in the graph)."""
    if training or _state.recording() or xp() is not np:
        return None
    return plan(model) or None
