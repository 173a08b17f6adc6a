"""`AdamW`: Adam with decoupled weight decay (Loshchilov and Hutter, 2019)."""

from __future__ import annotations

from kerasette.optimizers.adam import Adam
from kerasette.optimizers.base import Optimizer, check_float


class AdamW(Optimizer):
    """The AdamW algorithm, as tf.keras 2.11+'s `AdamW`.

    Each step first shrinks the variable, decoupled from the gradient, then
    takes an `Adam` step (same slots `m`, `v`, `vhat`, same "epsilon hat"
    formula). With `t = iterations + 1`:

    ```python
    w -= w * weight_decay * learning_rate
    alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m += (g - m) * (1 - beta_1)
    v += (g * g - v) * (1 - beta_2)
    vhat = maximum(vhat, v)                   # amsgrad only; then v = vhat
    w -= m * alpha / (sqrt(v) + epsilon)
    ```

    The decay uses the current (possibly scheduled) learning rate and skips
    the variables named in `exclude_from_weight_decay`. As in tf.keras,
    `AdamW` is not a subclass of `Adam`.

    Args:
        learning_rate: a non-negative float, or a schedule. Defaults to 0.001.
        weight_decay: a non-negative float, required (not None). Defaults to
            0.004.
        beta_1: decay of the first-moment estimate, in [0, 1). Defaults to 0.9.
        beta_2: decay of the second-moment estimate, in [0, 1). Defaults to
            0.999.
        epsilon: a non-negative float. Defaults to 1e-7.
        amsgrad: use the AMSGrad variant. Defaults to False.
        **kwargs: the base `Optimizer`'s arguments (`clipnorm`, `clipvalue`,
            `global_clipnorm`, `use_ema`, ..., `name`).

    Example:
        >>> import kerasette as keras
        >>> from kerasette import optimizers
        >>> opt = optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
        >>> w = keras.Variable([1.0, -1.0])
        >>> opt.minimize(lambda: keras.ops.sum(w * w), [w])
        >>> w.numpy().round(4)   # w * (1 - 0.5 * 0.1), then about lr * sign(g)
        array([ 0.85, -0.85], dtype=float32)
    """

    _elementwise_update = True

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        jit_compile=True,
        name="AdamW",
        **kwargs,
    ):
        if weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` is required by AdamW and must be a "
                "non-negative float. Received: weight_decay=None"
            )
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            jit_compile=jit_compile,
            name=name,
            **kwargs,
        )
        in_unit = "a float in [0, 1)"
        self.beta_1 = check_float(beta_1, "beta_1", in_unit, lambda x: 0 <= x < 1)
        self.beta_2 = check_float(beta_2, "beta_2", in_unit, lambda x: 0 <= x < 1)
        self.epsilon = check_float(epsilon, "epsilon", "a non-negative float",
                                   lambda x: x >= 0)
        self.amsgrad = bool(amsgrad)

    # The same slots and step as Adam (the decay is the base class's, applied
    # before the step), shared without making AdamW an Adam.
    _build_slots = Adam._build_slots
    update_step = Adam.update_step

    def get_config(self):
        config = super().get_config()
        config.update({
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        })
        return config
