"""Models: `Sequential`, `Model`, and (re)building them from configs."""

from kerasette.models.functional import Functional
from kerasette.models.model import Model
from kerasette.models.sequential import Sequential, model_from_json
from kerasette.saving.api import load_model, save_model


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialised
    weights (as Keras's `clone_model`).

    Args:
        model: a `Sequential` or functional model.
        input_tensors: unsupported; must be None.
        clone_function: optional `fn(layer) -> new layer`; by default each
            layer is rebuilt from its config. Functional models are rebuilt
            from their config only (no `clone_function`).
    """
    from kerasette import layers

    if input_tensors is not None:
        raise ValueError("clone_model: input_tensors is not supported.")
    if isinstance(model, Functional):
        if clone_function is not None:
            raise ValueError("clone_model: clone_function is not supported for functional "
                             "models yet.")
        return Functional.from_config(model.get_config())
    if not isinstance(model, Sequential):
        raise ValueError(f"clone_model clones Sequential models. Received: {type(model).__name__}")
    clone_function = clone_function or (
        lambda layer: layers.deserialize(layers.serialize(layer)))
    clone = Sequential(name=model.name)
    if model._input_layer is not None:
        clone.add(layers.deserialize(layers.serialize(model._input_layer)))
    for layer in model.layers:
        clone.add(clone_function(layer))
    if not clone.built and model.built:
        clone.build(model._build_input_shape)
    return clone


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
