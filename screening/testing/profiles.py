"""Hypothesis settings profiles for the property tests.

``ci`` is quick and derandomized (the same examples on every run, no example
database), ``thorough`` explores far more examples on demand, ``dev`` sits in
between for local work. Select one with ``HYPOTHESIS_PROFILE=thorough pytest``;
:func:`load_profile` reads that variable (default ``ci``).

Importing this module registers the profiles; it does not load one.
"""

from __future__ import annotations

import os
from typing import Final

from hypothesis import HealthCheck, Phase, settings

PROFILE_ENV: Final = "HYPOTHESIS_PROFILE"
DEFAULT_PROFILE: Final = "ci"
#: Every profile this module registers, by name.
PROFILES: Final = ("ci", "dev", "thorough")

# Manifests are frames of a few dozen rows and each example runs the engine; generation and runs are slow
# next to Hypothesis' defaults, which these health checks would report as a problem.
_SLOW_DATA: Final = (HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example)

settings.register_profile(
    "ci",
    max_examples=8,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_DATA,
    # Explicit, shrink, no "explain": derandomized runs must not depend on timing-based phases.
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_DATA,
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_DATA,
)


def load_profile(name: str | None = None) -> str:
    """Load profile ``name`` (default: ``$HYPOTHESIS_PROFILE``, else ``ci``) and return its name.

    Raises:
        ValueError: the name is not one of :data:`PROFILES`.
    """
    chosen = name or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    if chosen not in PROFILES:
        raise ValueError(f"unknown Hypothesis profile {chosen!r}: use one of {', '.join(PROFILES)}")
    settings.load_profile(chosen)
    return chosen
