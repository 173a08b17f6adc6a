"""`Adamax`: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from kerasette.optimizers.base import Optimizer, check_float


class Adamax(Optimizer):
    """The Adamax algorithm, as tf.keras 2.11+'s `Adamax`.

    With `t = iterations + 1` (Kingma and Ba, end of section 7.1):

    ```python
    m += (g - m) * (1 - beta_1)
    u = maximum(beta_2 * u, abs(g))
    w -= learning_rate * m / ((1 - beta_1**t) * (u + epsilon))
    ```

    Slots: `m` and `u`, interleaved per variable (as tf.keras).

    Args:
        learning_rate: a non-negative float, or a schedule. Defaults to 0.001.
        beta_1: decay of the first-moment estimate, in [0, 1). Defaults to 0.9.
        beta_2: decay of the exponentially weighted infinity norm, in [0, 1].
            Defaults to 0.999.
        epsilon: a non-negative float. Defaults to 1e-7.
        **kwargs: the base `Optimizer`'s arguments (`clipnorm`, `clipvalue`,
            `global_clipnorm`, `weight_decay`, `use_ema`, ..., `name`).

    Example:
        >>> import kerasette as keras
        >>> from kerasette import optimizers
        >>> opt = optimizers.Adamax(learning_rate=0.1)
        >>> w = keras.Variable([1.0, -1.0])
        >>> opt.minimize(lambda: keras.ops.sum(w * w), [w])
        >>> w.numpy().round(4)   # the first step is lr * sign(g)
        array([ 0.9, -0.9], dtype=float32)
        >>> [v.name for v in opt.variables]
        ['iteration:0', 'Adamax/m/Variable:0', 'Adamax/u/Variable:0']
    """

    _elementwise_update = True

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        jit_compile=True,
        name="Adamax",
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
        self.beta_1 = check_float(beta_1, "beta_1", "a float in [0, 1)", lambda x: 0 <= x < 1)
        # beta_2 is no bias-correction base here, so 1 (a plain running max) is fine.
        self.beta_2 = check_float(beta_2, "beta_2", "a float in [0, 1]", lambda x: 0 <= x <= 1)
        self.epsilon = check_float(epsilon, "epsilon", "a non-negative float",
                                   lambda x: x >= 0)

    def _build_slots(self, var_list):
        for v in var_list:
            self.add_variable_from_reference(v, "m")
            self.add_variable_from_reference(v, "u")

    def update_step(self, gradient, variable):
        xp, w = self._xp, variable.data
        m, u = self._slot(variable, "m"), self._slot(variable, "u")
        t = self._step + 1
        alpha = self._lr / (1.0 - self.beta_1**t)  # a Python float
        tmp = self._temp(w, 0)
        xp.subtract(gradient, m, out=tmp)
        xp.multiply(tmp, 1.0 - self.beta_1, out=tmp)
        xp.add(m, tmp, out=m)
        xp.multiply(u, self.beta_2, out=u)
        xp.abs(gradient, out=tmp)
        xp.maximum(u, tmp, out=u)
        step = self._temp(w, 1)
        xp.add(u, self.epsilon, out=tmp)
        xp.multiply(m, alpha, out=step)
        xp.divide(step, tmp, out=step)
        xp.subtract(w, step, out=w)

    def get_config(self):
        config = super().get_config()
        config.update({
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        })
        return config
