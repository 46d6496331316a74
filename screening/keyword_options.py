"""Keyword options checked by name: a misspelt option is a :class:`TypeError`, not a default silently taken."""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")


def refuse_unknown_options(function: str, given: Iterable[str], known: Sequence[str]) -> None:
    """Raise :class:`TypeError`, as Python does for an unexpected keyword argument, when ``given`` names an option
    that is not one of ``known`` (the options of ``function``, which takes them as ``**options``): a misspelt one
    (``postal_methd``, ``pseudonymize_key``) would otherwise be ignored and the run go on with the default.

    The message names each unknown keyword (with the option it is probably meant to be) and every known one.
    """
    unknown = [name for name in given if name not in known]
    if not unknown:
        return
    named = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        named.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    some = "an unexpected keyword argument" if len(unknown) == 1 else "unexpected keyword arguments"
    raise TypeError(f"{function}() got {some} {', '.join(named)}; it takes {', '.join(known)}")


def refusing_unknown_options(
    function: str, *, subjects: Sequence[str] = ()
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Decorate a function of explicit keyword parameters so that an unknown keyword is refused as
    :func:`refuse_unknown_options` refuses it, named as ``function`` (``Screener`` for its ``__init__``), the
    message listing its options: the parameters taken by keyword, but for ``self`` and ``subjects`` (what it
    works on, as ``source``: taken by keyword too, not listed)."""

    def decorate(call: Callable[_P, _R]) -> Callable[_P, _R]:
        by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        names = [p.name for p in inspect.signature(call).parameters.values() if p.kind in by_keyword]
        options = tuple(name for name in names if name != "self" and name not in subjects)
        taken = frozenset(options) | frozenset(subjects)

        @functools.wraps(call)
        def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            refuse_unknown_options(function, [name for name in kwargs if name not in taken], options)
            return call(*args, **kwargs)

        return checked

    return decorate
