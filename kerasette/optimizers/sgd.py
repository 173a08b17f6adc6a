"""`SGD`: gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from kerasette.optimizers.base import Optimizer, check_float, one_pass_kernels


class SGD(Optimizer):
    """Gradient descent (with momentum), as tf.keras 2.11+'s `SGD`.

    With `momentum == 0`: `w = w - learning_rate * g`. Otherwise:

    ```python
    velocity = momentum * velocity - learning_rate * g
    w = w + velocity                                   # nesterov=False
    w = w + momentum * velocity - learning_rate * g    # nesterov=True
    ```

    As in tf.keras, a `velocity` slot (named `m`) exists for every variable
    even when `momentum == 0` (it then holds the last step,
    `-learning_rate * g`), so saved optimizer weights have Keras's layout.

    Args:
        learning_rate: a non-negative float, or a schedule. Defaults to 0.01.
        momentum: a float in [0, 1]. Defaults to 0.0.
        nesterov: whether to use Nesterov momentum. Defaults to False.
        **kwargs: the base `Optimizer`'s arguments (`clipnorm`, `clipvalue`,
            `global_clipnorm`, `weight_decay`, `use_ema`, ..., `name`).

    Example:
        >>> import kerasette as keras
        >>> from kerasette import optimizers
        >>> opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)
        >>> w = keras.Variable(1.0)
        >>> opt.minimize(lambda: (w ** 2) / 2.0, [w])   # grad = w
        >>> round(float(w), 6)
        0.9
        >>> opt.minimize(lambda: (w ** 2) / 2.0, [w])   # the step grows
        >>> round(float(w), 6)
        0.72
    """

    _elementwise_update = True

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        jit_compile=True,
        name="SGD",
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
        self.momentum = check_float(momentum, "momentum", "a float in [0, 1]",
                                    lambda x: 0 <= x <= 1)
        self.nesterov = bool(nesterov)

    def _build_slots(self, var_list):
        for v in var_list:
            self.add_variable_from_reference(v, "m")

    def update_step(self, gradient, variable):
        xp, w, m = self._xp, variable.data, self._slot(variable, "m")
        lr, mu = self._lr, self.momentum
        kernels = one_pass_kernels(xp, (gradient, m, w))
        if kernels is not None:
            # One pass (GPU, or numba on the CPU) doing the passes below, in order.
            kernels.sgd(gradient, m, w, -lr, mu, self.nesterov)
            return
        if mu == 0:
            # m * 0 + (-lr * g) is just -lr * g: skip the pass over m.
            xp.multiply(gradient, -lr, out=m)
            xp.add(w, m, out=w)
            return
        step = self._temp(w, 0)
        xp.multiply(gradient, -lr, out=step)
        xp.multiply(m, mu, out=m)
        xp.add(step, m, out=m)
        if self.nesterov:
            # w += (-lr * g) + momentum * m, summed first as in tf.keras.
            ahead = self._temp(w, 1)
            xp.multiply(m, mu, out=ahead)
            xp.add(step, ahead, out=step)
            xp.add(w, step, out=w)
        else:
            xp.add(w, m, out=w)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
