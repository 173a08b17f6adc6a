"""`Nadam`: Adam with Nesterov momentum (Dozat, 2015), as tf.keras 2.11+."""

from __future__ import annotations

from kerasette.optimizers.base import Optimizer, check_float

_MOMENTUM_DECAY = 0.96  # the schedule of the momentum coefficient (fixed in tf.keras)


class Nadam(Optimizer):
    """The Nadam algorithm, as tf.keras 2.11+'s `Nadam`.

    With `t = iterations + 1`, a momentum coefficient that warms up,
    `u_t = beta_1 * (1 - 0.5 * 0.96**t)`, and its running product
    `u_product_t = u_1 * u_2 * ... * u_t`:

    ```python
    m += (g - m) * (1 - beta_1)
    v += (g * g - v) * (1 - beta_2)
    m_hat = u_{t+1} * m / (1 - u_product_t * u_{t+1}) + (1 - u_t) * g / (1 - u_product_t)
    v_hat = v / (1 - beta_2**t)
    w -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)
    ```

    The running product is state, as in tf.keras (its `_u_product`): it is
    multiplied by `u_t` once per step, shared by all variables, and kept out
    of `variables` (tf.keras saves only `m` and `v`). kerasette holds it as a
    Python float on the host; if `iterations` jumps (a restored optimizer,
    `set_weights`), it is recomputed for the new step, so a restored Nadam
    continues exactly where the saved one was.

    Args:
        learning_rate: a non-negative float, or a schedule. Defaults to 0.001.
        beta_1: decay of the first-moment estimate, in [0, 1). Defaults to 0.9.
        beta_2: decay of the second-moment estimate, in [0, 1). Defaults to
            0.999.
        epsilon: a non-negative float, the "epsilon hat" added to
            `sqrt(v_hat)`. Defaults to 1e-7.
        **kwargs: the base `Optimizer`'s arguments (`clipnorm`, `clipvalue`,
            `global_clipnorm`, `weight_decay`, `use_ema`, ..., `name`).

    Example:
        >>> import kerasette as keras
        >>> from kerasette import optimizers
        >>> opt = optimizers.Nadam(learning_rate=0.1)
        >>> w = keras.Variable(1.0)
        >>> opt.minimize(lambda: 2.0 * w, [w])
        >>> round(float(w), 4)
        0.8937
        >>> [v.name for v in opt.variables]
        ['iteration:0', 'Nadam/m/Variable:0', 'Nadam/v/Variable:0']
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
        name="Nadam",
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
        self._u_product = 1.0  # u_1 * ... * u_t for t = _u_product_step
        self._u_product_step = 0

    def _build_slots(self, var_list):
        for v in var_list:
            self.add_variable_from_reference(v, "m")
            self.add_variable_from_reference(v, "v")

    def _u(self, t: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * _MOMENTUM_DECAY**t)

    def _u_product_at(self, t: int) -> float:
        """`u_1 * ... * u_t`, advanced once per step (all variables share it)."""
        if self._u_product_step != t:
            if self._u_product_step == t - 1:
                self._u_product *= self._u(t)
            else:  # the step counter was set by hand: recompute for it
                product = 1.0
                for i in range(1, t + 1):
                    product *= self._u(i)
                self._u_product = product
            self._u_product_step = t
        return self._u_product

    def update_step(self, gradient, variable):
        xp, w = self._xp, variable.data
        m, v = self._slot(variable, "m"), self._slot(variable, "v")
        t = self._step + 1
        # Python floats: one rounding to the variable's dtype, no float64 arrays.
        u_t, u_next = self._u(t), self._u(t + 1)
        u_product = self._u_product_at(t)
        coef_m = u_next / (1.0 - u_product * u_next)
        coef_g = (1.0 - u_t) / (1.0 - u_product)
        bias_2 = 1.0 - self.beta_2**t
        tmp = self._temp(w, 0)
        xp.subtract(gradient, m, out=tmp)
        xp.multiply(tmp, 1.0 - self.beta_1, out=tmp)
        xp.add(m, tmp, out=m)
        xp.multiply(gradient, gradient, out=tmp)
        xp.subtract(tmp, v, out=tmp)
        xp.multiply(tmp, 1.0 - self.beta_2, out=tmp)
        xp.add(v, tmp, out=v)
        step = self._temp(w, 1)  # m_hat
        xp.multiply(m, coef_m, out=step)
        xp.multiply(gradient, coef_g, out=tmp)
        xp.add(step, tmp, out=step)
        xp.divide(v, bias_2, out=tmp)  # v_hat
        xp.sqrt(tmp, out=tmp)
        xp.add(tmp, self.epsilon, out=tmp)
        xp.divide(step, tmp, out=step)
        xp.multiply(step, self._lr, out=step)
        xp.subtract(w, step, out=w)

    def get_config(self):
        config = super().get_config()
        config.update({
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        })
        return config
