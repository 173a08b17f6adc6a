"""The one error type for unreadable or inconsistent model files."""


class ModelFileError(ValueError):
    """A model or weights file is missing, foreign, damaged or does not fit
    the model. The message names the file and the problem."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
