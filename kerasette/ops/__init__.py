"""Differentiable array ops for custom layers and training loops.

Every function here works on the active backend, takes `Tensor`s, backend
arrays or Python numbers, and is recorded by an active `GradientTape`.

Example:
    >>> import kerasette as keras
    >>> from kerasette import ops
    >>> w = keras.Variable([[1.0], [2.0]])
    >>> x = ops.convert_to_tensor([[3.0, 4.0]])
    >>> with keras.GradientTape() as tape:
    ...     loss = ops.sum(ops.relu(x @ w))
    >>> tape.gradient(loss, w).numpy().ravel().tolist()
    [3.0, 4.0]
"""

from kerasette.autodiff import tensor as _tensor_module
from kerasette.ops.conv import (
    conv1d,
    conv2d,
    conv3d,
    depthwise_conv2d,
    layer_normalization,
    pad,
)
from kerasette.ops.conv_transpose import conv1d_transpose, conv2d_transpose
from kerasette.ops.pooling import (
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from kerasette.ops.core import (
    abs,
    absolute,
    add,
    argmax,
    argmin,
    cast,
    clip,
    concatenate,
    convert_to_numpy,
    convert_to_tensor,
    divide,
    dot,
    equal,
    exp,
    expand_dims,
    getitem,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    multiply,
    negative,
    not_equal,
    one_hot,
    ones,
    ones_like,
    power,
    reshape,
    sign,
    sqrt,
    square,
    squeeze,
    stack,
    stop_gradient,
    subtract,
    sum,
    take,
    transpose,
    true_divide,
    where,
    zeros,
    zeros_like,
)
from kerasette.ops.nn import (
    batch_normalization,
    batch_normalization_training,
    dense,
    dropout,
    elu,
    exponential,
    gelu,
    hard_sigmoid,
    leaky_relu,
    linear,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    sigmoid_cross_entropy,
    silu,
    softmax,
    softmax_cross_entropy,
    softplus,
    softsign,
    sparse_softmax_cross_entropy,
    swish,
    tanh,
)

_tensor_module._ops = __import__(__name__, fromlist=["*"])

__all__ = [name for name in dir() if not name.startswith("_")]
