"""Clear errors for constructor arguments whose name or meaning changed."""
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
