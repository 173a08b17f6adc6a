"""`RMSprop`: divide the gradient by a running root mean square."""

from __future__ import annotations

from kerasette.optimizers.base import Optimizer, check_float, one_pass_kernels


class RMSprop(Optimizer):
    """The RMSprop algorithm, as tf.keras 2.11+'s `RMSprop`.

    ```python
    velocity = rho * velocity + (1 - rho) * g**2
    average_grad = rho * average_grad + (1 - rho) * g           # centered only
    denominator = velocity - average_grad**2 + epsilon          # centered
    denominator = velocity + epsilon                            # otherwise
    increment = learning_rate * g / sqrt(denominator)
    momentum_slot = momentum * momentum_slot + increment        # momentum > 0
    w -= momentum_slot  (or w -= increment when momentum == 0)
    ```

    `epsilon` sits inside the square root, as in tf.keras 2.11+ (the legacy
    optimizer put it outside). Slots: `velocity` for every variable, then
    `momentum` (only when `momentum > 0`), then `average_gradient` (only when
    `centered`).

    Args:
        learning_rate: a non-negative float, or a schedule. Defaults to 0.001.
        rho: discounting factor of the old gradients, in [0, 1]. Defaults to
            0.9.
        momentum: a float in [0, 1]. Defaults to 0.0.
        epsilon: a non-negative float. Defaults to 1e-7.
        centered: normalize by the estimated variance of the gradient rather
            than by its second moment. Defaults to False.
        **kwargs: the base `Optimizer`'s arguments (`clipnorm`, `clipvalue`,
            `global_clipnorm`, `weight_decay`, `use_ema`, ..., `name`). As in
            tf.keras, `ema_overwrite_frequency` defaults to 100 here.

    Example:
        >>> import kerasette as keras
        >>> from kerasette import optimizers
        >>> opt = optimizers.RMSprop(learning_rate=0.1)
        >>> w = keras.Variable(10.0)
        >>> opt.minimize(lambda: (w ** 2) / 2.0, [w])   # grad = w
        >>> round(float(w), 5)
        9.68377
    """

    _elementwise_update = True

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=100,
        jit_compile=True,
        name="RMSprop",
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
        in_unit = "a float in [0, 1]"
        self.rho = check_float(rho, "rho", in_unit, lambda x: 0 <= x <= 1)
        self.momentum = check_float(momentum, "momentum", in_unit, lambda x: 0 <= x <= 1)
        self.epsilon = check_float(epsilon, "epsilon", "a non-negative float",
                                   lambda x: x >= 0)
        self.centered = bool(centered)

    def _build_slots(self, var_list):
        for v in var_list:
            self.add_variable_from_reference(v, "velocity")
        if self.momentum > 0:
            for v in var_list:
                self.add_variable_from_reference(v, "momentum")
        if self.centered:
            for v in var_list:
                self.add_variable_from_reference(v, "average_gradient")

    def update_step(self, gradient, variable):
        xp, w, rho = self._xp, variable.data, self.rho
        # Slots exist for the options set when the variable was first seen.
        velocity = self._slot(variable, "velocity")
        average = self._slot_or_none(variable, "average_gradient")
        mom = self._slot_or_none(variable, "momentum")
        plain = not (self.centered and average is not None) and not (
            self.momentum > 0 and mom is not None)
        kernels = one_pass_kernels(xp, (gradient, velocity, w)) if plain else None
        if kernels is not None:
            # One pass (GPU, or numba on the CPU) doing the passes below, in order.
            kernels.rmsprop(gradient, velocity, w, rho, 1.0 - rho, self._lr, self.epsilon)
            return
        tmp = self._temp(w, 0)
        xp.multiply(velocity, rho, out=velocity)
        xp.multiply(gradient, gradient, out=tmp)
        xp.multiply(tmp, 1.0 - rho, out=tmp)
        xp.add(velocity, tmp, out=velocity)
        if self.centered and average is not None:
            xp.multiply(average, rho, out=average)
            xp.multiply(gradient, 1.0 - rho, out=tmp)
            xp.add(average, tmp, out=average)
            xp.multiply(average, average, out=tmp)
            xp.subtract(velocity, tmp, out=tmp)
            xp.add(tmp, self.epsilon, out=tmp)
        else:
            xp.add(velocity, self.epsilon, out=tmp)
        xp.sqrt(tmp, out=tmp)
        increment = self._temp(w, 1)
        xp.multiply(gradient, self._lr, out=increment)
        xp.divide(increment, tmp, out=increment)
        if self.momentum > 0 and mom is not None:
            xp.multiply(mom, self.momentum, out=mom)
            xp.add(mom, increment, out=mom)
            xp.subtract(w, mom, out=w)
        else:
            xp.subtract(w, increment, out=w)

    def get_config(self):
        config = super().get_config()
        config.update({
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        })
        return config
