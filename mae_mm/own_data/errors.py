"""The one error of "your own data": a folder that cannot be read in the layout its task needs."""


class OwnDataError(ValueError):
    """A data folder that does not fit its task's layout, with the folder, what was found and the
    layouts expected, in one message. ``tools/train.py`` and ``tools/test.py`` print it as one line
    and exit 2, before any model is built."""
