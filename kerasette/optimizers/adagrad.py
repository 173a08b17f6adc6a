"""`Adagrad`: per-parameter steps that shrink with the gradients seen so far."""

from __future__ import annotations

from kerasette.optimizers.base import Optimizer, check_float


class Adagrad(Optimizer):
    """The Adagrad algorithm, as tf.keras 2.11+'s `Adagrad`.

    ```python
    accumulator += g * g            # starts at initial_accumulator_value
    w -= learning_rate * g / sqrt(accumulator + epsilon)
    ```

    Args:
        learning_rate: a non-negative float, or a schedule. Defaults to 0.001
            (Adagrad usually wants more; 1.0 matches the original paper).
        initial_accumulator_value: the accumulators' starting value, a
            non-negative float. Defaults to 0.1.
        epsilon: a non-negative float, inside the square root. Defaults to
            1e-7.
        **kwargs: the base `Optimizer`'s arguments (`clipnorm`, `clipvalue`,
            `global_clipnorm`, `weight_decay`, `use_ema`, ..., `name`).

    Example:
        >>> import kerasette as keras
        >>> from kerasette import optimizers
        >>> opt = optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0)
        >>> w = keras.Variable(2.0)
        >>> opt.minimize(lambda: 3.0 * w, [w])   # grad = 3: w -= 0.1 * 3 / 3
        >>> round(float(w), 5)
        1.9
    """

    _elementwise_update = True

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        jit_compile=True,
        name="Adagrad",
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
        non_negative = "a non-negative float"
        self.initial_accumulator_value = check_float(
            initial_accumulator_value, "initial_accumulator_value", non_negative,
            lambda x: x >= 0)
        self.epsilon = check_float(epsilon, "epsilon", non_negative, lambda x: x >= 0)

    def _build_slots(self, var_list):
        for v in var_list:
            self.add_variable_from_reference(
                v, "accumulator", initial_value=self.initial_accumulator_value)

    def update_step(self, gradient, variable):
        xp, w = self._xp, variable.data
        acc = self._slot(variable, "accumulator")
        tmp = self._temp(w, 0)
        xp.multiply(gradient, gradient, out=tmp)
        xp.add(acc, tmp, out=acc)
        xp.add(acc, self.epsilon, out=tmp)
        xp.sqrt(tmp, out=tmp)
        step = self._temp(w, 1)
        xp.multiply(gradient, self._lr, out=step)
        xp.divide(step, tmp, out=step)
        xp.subtract(w, step, out=w)

    def get_config(self):
        config = super().get_config()
        config.update({
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        })
        return config
