"""Test support: Hypothesis strategies for SYNTHETIC manifests and small rule packs, and settings profiles.

Public, so that users can property-test their own mappings, packs and pipelines::

    from hypothesis import given
    from screening.testing import manifests, load_profile

Needs Hypothesis (a ``dev`` extra), not pytest. Within this package it reads the schema, the codes and, for
the default arrival dates (the days the bundled pack's law changes), the pack loader.
"""

from screening.testing.boundaries import bundled_rule_change_dates, rule_boundaries, rule_change_dates
from screening.testing.profiles import PROFILES, load_profile
from screening.testing.strategies import (
    BOUNDARY_VALUES,
    BREAKAGES,
    COLUMNS,
    DEFAULT_CURRENCIES,
    DEFAULT_HTS_CODES,
    DEFAULT_ORIGINS,
    PLACEHOLDER_IDS,
    QUANTITIES,
    WEIGHTS,
    Breakage,
    BrokenRow,
    DeMinimisPack,
    LabelledManifest,
    Person,
    Row,
    RowLabel,
    SuspensionSpec,
    broken_rows,
    de_minimis_packs,
    declared_values,
    is_placeholder_id,
    labelled_manifests,
    manifest_rows,
    manifests,
    persons,
    to_frame,
)

__all__ = [
    "BOUNDARY_VALUES",
    "BREAKAGES",
    "COLUMNS",
    "DEFAULT_CURRENCIES",
    "DEFAULT_HTS_CODES",
    "DEFAULT_ORIGINS",
    "PLACEHOLDER_IDS",
    "PROFILES",
    "QUANTITIES",
    "WEIGHTS",
    "Breakage",
    "BrokenRow",
    "DeMinimisPack",
    "LabelledManifest",
    "Person",
    "Row",
    "RowLabel",
    "SuspensionSpec",
    "broken_rows",
    "bundled_rule_change_dates",
    "de_minimis_packs",
    "declared_values",
    "is_placeholder_id",
    "labelled_manifests",
    "load_profile",
    "manifest_rows",
    "manifests",
    "persons",
    "rule_boundaries",
    "rule_change_dates",
    "to_frame",
]
