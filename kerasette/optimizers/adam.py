"""`Adam`: adaptive moment estimation, in tf.keras's "epsilon hat" form."""

from __future__ import annotations

import math

from kerasette.optimizers.base import Optimizer, check_float, one_pass_kernels


class Adam(Optimizer):
    """The Adam algorithm, as tf.keras 2.11+'s `Adam`.

    With `t = iterations + 1`:

    ```python
    alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m += (g - m) * (1 - beta_1)
    v += (g * g - v) * (1 - beta_2)
    vhat = maximum(vhat, v)                   # amsgrad only; then v = vhat
    w -= m * alpha / (sqrt(v) + epsilon)
    ```

    `epsilon` is the "epsilon hat" of Kingma and Ba (the formula just before
    their Section 2.1), added to `sqrt(v)` after the bias correction was
    folded into `alpha`.

    Args:
        learning_rate: a non-negative float, or a schedule. Defaults to 0.001.
        beta_1: decay of the first-moment estimate, in [0, 1). Defaults to 0.9.
        beta_2: decay of the second-moment estimate, in [0, 1). Defaults to
            0.999.
        epsilon: a non-negative float. Defaults to 1e-7.
        amsgrad: use the AMSGrad variant (Reddi et al., 2018). Defaults to
            False.
        **kwargs: the base `Optimizer`'s arguments (`clipnorm`, `clipvalue`,
            `global_clipnorm`, `weight_decay`, `use_ema`, ..., `name`).

    Example:
        >>> import kerasette as keras
        >>> from kerasette import optimizers
        >>> opt = optimizers.Adam(learning_rate=0.1)
        >>> w = keras.Variable([1.0, -1.0])
        >>> opt.minimize(lambda: keras.ops.sum(w * w), [w])
        >>> w.numpy().round(4)   # the first step is about lr * sign(g)
        array([ 0.9, -0.9], dtype=float32)
        >>> [v.name for v in opt.variables]
        ['iteration:0', 'Adam/m/Variable:0', 'Adam/v/Variable:0']
    """

    _elementwise_update = True

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        jit_compile=True,
        name="Adam",
        **kwargs,
    ):
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

    def _build_slots(self, var_list):
        # tf.keras's order: m and v per variable, then all the vhat.
        for v in var_list:
            self.add_variable_from_reference(v, "m")
            self.add_variable_from_reference(v, "v")
        if self.amsgrad:
            for v in var_list:
                self.add_variable_from_reference(v, "vhat")

    def update_step(self, gradient, variable):
        xp, w = self._xp, variable.data
        m, v = self._slot(variable, "m"), self._slot(variable, "v")
        t = self._step + 1
        # Python floats: one rounding to the variable's dtype, no float64 arrays.
        alpha = self._lr * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        kernels = None if self.amsgrad else one_pass_kernels(xp, (gradient, m, v, w))
        if kernels is not None:
            # One pass (GPU, or numba on the CPU) doing the twelve below, in order.
            kernels.adam(gradient, m, v, w, 1.0 - self.beta_1, 1.0 - self.beta_2, alpha,
                         self.epsilon)
            return
        tmp = self._temp(w, 0)
        xp.subtract(gradient, m, out=tmp)
        xp.multiply(tmp, 1.0 - self.beta_1, out=tmp)
        xp.add(m, tmp, out=m)
        xp.multiply(gradient, gradient, out=tmp)
        xp.subtract(tmp, v, out=tmp)
        xp.multiply(tmp, 1.0 - self.beta_2, out=tmp)
        xp.add(v, tmp, out=v)
        if self.amsgrad:
            vhat = self._slot(variable, "vhat")
            xp.maximum(vhat, v, out=vhat)
            v = vhat
        denom = self._temp(w, 1)
        xp.sqrt(v, out=denom)
        xp.add(denom, self.epsilon, out=denom)
        xp.multiply(m, alpha, out=tmp)
        xp.divide(tmp, denom, out=tmp)
        xp.subtract(w, tmp, out=w)

    def get_config(self):
        config = super().get_config()
        config.update({
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        })
        return config
