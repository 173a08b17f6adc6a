"""The one error type for unreadable or inconsistent model files."""


class ModelFileError(ValueError):
    """A model or weights file is missing, foreign, damaged or does not fit
    the model. The message names the file and the problem."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


# What rebuilding a model from a damaged config raises: wrong types and
# values (ValueError, TypeError, ...), absurd nesting (RecursionError).
CONFIG_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError,
                 NotImplementedError, OverflowError, RecursionError)


def too_large(path, err):
    """The error for a config whose model does not fit in memory (a damaged
    `units` or `filters`, say): raised when the allocation fails."""
    return ModelFileError(path, f"the config declares a model too large to build ({err}).")
