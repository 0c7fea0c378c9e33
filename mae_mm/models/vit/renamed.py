"""Constructor arguments whose name or meaning changed: an old name still accepted for the new
one, or refused with a message that names the new key."""
from typing import Dict


def refuse_renamed(owner: str, kwargs: dict, replacements: Dict[str, str], others_allowed: bool = False) -> None:
    """Raises ``TypeError`` for a key of ``kwargs`` that ``replacements`` lists, with its advice.

    Args:
        owner: The class, named in the message.
        kwargs: The keyword arguments given (beyond the named ones).
        replacements: Old key -> what to pass instead (a sentence naming the new key).
        others_allowed: Whether other keys may remain (passed on to a parent class, which checks them).
    """
    for key in kwargs:
        if key in replacements:
            raise TypeError(f'{owner}: {key!r} is no longer an argument: {replacements[key]}')
    if kwargs and not others_allowed:
        raise TypeError(f'{owner}: unexpected arguments {sorted(kwargs)}')


def renamed_alias(owner: str, kwargs: dict, old: str, new: str, value, default):
    """The value of argument ``new``, or of its old name ``old`` where a config still writes that.

    Args:
        owner: The class, named in the message.
        kwargs: The keyword arguments given beyond the named ones; ``old`` is popped from them.
        old, new: The argument's old and new names.
        value, default: What ``new`` was given, and its default.

    Raises:
        TypeError: Both names given (``new`` differs from its default).
    """
    if old not in kwargs:
        return value
    if value != default:
        raise TypeError(f'{owner}: {old!r} is the old name of {new!r}; pass only {new!r}')
    return kwargs.pop(old)
