"""Whether an op should be recorded right now.

Kept apart from the tape so that every op can ask cheaply: a tape is
recording, and it watches trainable variables automatically.
"""

_recording = 0  # active, non-paused tapes
_auto_watch = 0  # of those, the ones with watch_accessed_variables=True


def recording() -> bool:
    return _recording > 0


def auto_watch() -> bool:
    return _auto_watch > 0


def push(watch_accessed_variables: bool) -> None:
    global _recording, _auto_watch
    _recording += 1
    _auto_watch += bool(watch_accessed_variables)


def pop(watch_accessed_variables: bool) -> None:
    global _recording, _auto_watch
    _recording -= 1
    _auto_watch -= bool(watch_accessed_variables)
