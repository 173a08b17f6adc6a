"""`Adadelta`: steps scaled by running averages of squared gradients and updates."""

from __future__ import annotations

from kerasette.optimizers.base import Optimizer, check_float


class Adadelta(Optimizer):
    """The Adadelta algorithm, as tf.keras 2.11+'s `Adadelta`.

    ```python
    accumulated_grad = rho * accumulated_grad + (1 - rho) * g**2
    delta = -sqrt(accumulated_delta_var + epsilon) * g / sqrt(accumulated_grad + epsilon)
    accumulated_delta_var = rho * accumulated_delta_var + (1 - rho) * delta**2
    w += learning_rate * delta
    ```

    Unlike Zeiler's paper, the step is multiplied by `learning_rate`; use
    `learning_rate=1.0` for the paper's exact form. Slots: `accumulated_grad`
    and `accumulated_delta_var`, interleaved per variable (as tf.keras).

    Args:
        learning_rate: a non-negative float, or a schedule. Defaults to 0.001
            (Adadelta usually wants much more).
        rho: the decay rate of both running averages, in [0, 1]. Defaults to
            0.95.
        epsilon: a non-negative float, inside both square roots. Defaults to
            1e-7.
        **kwargs: the base `Optimizer`'s arguments (`clipnorm`, `clipvalue`,
            `global_clipnorm`, `weight_decay`, `use_ema`, ..., `name`).

    Example:
        >>> import kerasette as keras
        >>> from kerasette import optimizers
        >>> opt = optimizers.Adadelta(learning_rate=1.0, rho=0.0, epsilon=1.0)
        >>> w = keras.Variable(1.0)
        >>> opt.minimize(lambda: 3.0 * w, [w])   # grad 3: w -= 1 * 3 / sqrt(9 + 1)
        >>> round(float(w), 5)
        0.05132
        >>> [v.name for v in opt.variables][1:]
        ['Adadelta/accumulated_grad/Variable:0', 'Adadelta/accumulated_delta_var/Variable:0']
    """

    _elementwise_update = True

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        jit_compile=True,
        name="Adadelta",
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
        self.rho = check_float(rho, "rho", "a float in [0, 1]", lambda x: 0 <= x <= 1)
        self.epsilon = check_float(epsilon, "epsilon", "a non-negative float",
                                   lambda x: x >= 0)

    def _build_slots(self, var_list):
        for v in var_list:
            self.add_variable_from_reference(v, "accumulated_grad")
            self.add_variable_from_reference(v, "accumulated_delta_var")

    def update_step(self, gradient, variable):
        xp, w, rho = self._xp, variable.data, self.rho
        acc_grad = self._slot(variable, "accumulated_grad")
        acc_delta = self._slot(variable, "accumulated_delta_var")
        tmp = self._temp(w, 0)
        xp.multiply(gradient, gradient, out=tmp)
        xp.multiply(tmp, 1.0 - rho, out=tmp)
        xp.multiply(acc_grad, rho, out=acc_grad)
        xp.add(acc_grad, tmp, out=acc_grad)
        # step = -delta = sqrt(acc_delta + eps) * g / sqrt(acc_grad + eps)
        step = self._temp(w, 1)
        xp.add(acc_delta, self.epsilon, out=step)
        xp.sqrt(step, out=step)
        xp.multiply(step, gradient, out=step)
        xp.add(acc_grad, self.epsilon, out=tmp)
        xp.sqrt(tmp, out=tmp)
        xp.divide(step, tmp, out=step)
        xp.multiply(step, step, out=tmp)
        xp.multiply(tmp, 1.0 - rho, out=tmp)
        xp.multiply(acc_delta, rho, out=acc_delta)
        xp.add(acc_delta, tmp, out=acc_delta)
        xp.multiply(step, self._lr, out=step)
        xp.subtract(w, step, out=w)

    def get_config(self):
        config = super().get_config()
        config.update({
            "rho": self.rho,
            "epsilon": self.epsilon,
        })
        return config
