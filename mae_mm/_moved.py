"""Old import paths that keep working after a module moved (issue 21's layout).

A module that moved leaves a two-line file at its old path calling :func:`alias_module`: the old
name then is the new module itself (``import mae_mm.convert`` and ``from mae_mm.convert import
x`` work, and patching through either name patches the same object), with a
``DeprecationWarning`` naming the new place.
"""
import importlib
import sys
import warnings


def alias_module(old: str, new: str) -> None:
    """Makes the module being imported as ``old`` the module ``new``; warns once per process."""
    warnings.warn(f'{old} moved to {new}; import it from there', DeprecationWarning, stacklevel=3)
    sys.modules[old] = importlib.import_module(new)
