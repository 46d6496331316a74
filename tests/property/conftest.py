"""Property tests: load the Hypothesis profile named by $HYPOTHESIS_PROFILE (default ``ci``).

``ci`` is derandomized with 8 examples per test; run ``HYPOTHESIS_PROFILE=thorough pytest tests/property``
for 500. See :mod:`screening.testing.profiles`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from typing import Any

import pytest

import screening
from screening.rulepack.loader import check_pack
from screening.rulepack.models import DeMinimisRules
from screening.testing import DeMinimisPack
from screening.testing.profiles import load_profile

load_profile()


@dataclasses.dataclass(frozen=True, repr=False)
class _QuietPack(screening.RulePack):
    """The pack with a one-line repr: Hypothesis prints every argument of a failing example."""

    def __repr__(self) -> str:
        return f"<RulePack {self.meta.id} {self.content_hash[:19]}>"

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:
        printer.text(repr(self))


@pytest.fixture(scope="session")
def pack(us_pack: screening.RulePack) -> screening.RulePack:
    """The session's U.S. pack (``us_pack``), printed briefly in Hypothesis reports."""
    return _QuietPack(**{f.name: getattr(us_pack, f.name) for f in dataclasses.fields(us_pack)})


def overlay(small: DeMinimisPack, base: screening.RulePack) -> screening.RulePack:
    """``base`` with ``small``'s de_minimis.toml, validated as the loader validates it (in memory: fast)."""
    de_minimis = DeMinimisRules.model_validate(tomllib.loads(small.toml()))
    pack = dataclasses.replace(base, de_minimis=de_minimis, content_hash="sha256:" + "0" * 64)
    check_pack(pack)
    return pack
