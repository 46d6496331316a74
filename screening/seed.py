"""The seed of the random compliance sample and of the queue tie-break: public or private.

A public seed (text) is recorded in clear wherever a run records its options. A :class:`PrivateSeed` draws the
same sample and the same order of ties as the same text given in clear, but no output names it: summaries, the
console and saved states record a fingerprint (:func:`secret_id`, as a state records the pseudonymisation key)
and that the seed is private.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from screening.errors import UsageError

#: The fixed text whose HMAC under a private seed is the seed's fingerprint.
SEED_ID_TEXT = b"screening seed id"


def secret_id(secret: bytes, text: bytes) -> str:
    """A fingerprint of ``secret``: the first 16 hex digits of HMAC-SHA256(secret, text), ``text`` a fixed
    text naming what the secret is for. It tells two secrets apart without recording either."""
    return hmac.new(secret, text, hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class PrivateSeed:
    """A seed kept out of every output: ``screening.screen(..., seed=PrivateSeed(os.environ["SEED"]))``.

    It samples and breaks queue ties as the same text given as ``seed=`` does; summaries and saved states
    record ``seed_private`` and its fingerprint ``seed_id`` instead of it, and its ``repr`` hides it.

    Raises:
        UsageError: ``value`` is not a text with a character other than blanks.
    """

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not self.value.strip():
            raise UsageError("a private seed must be a non-empty text, not blanks only")

    @property
    def id(self) -> str:
        """The seed's fingerprint (:func:`secret_id` of :data:`SEED_ID_TEXT`)."""
        return secret_id(self.value.encode(), SEED_ID_TEXT)

    def __repr__(self) -> str:
        return f"PrivateSeed(id={self.id})"


#: A seed as given: text (public) or a :class:`PrivateSeed`.
Seed = str | PrivateSeed


def checked_seed(seed: object) -> Seed | None:
    """``seed`` as given to a run: ``None`` (the pack's), a text other than blanks or a :class:`PrivateSeed`.

    Raises:
        UsageError: anything else (an empty or blank text, ``--seed "$SEED"`` with SEED unset or a blank,
            draws a sample anyone can repeat; bytes or a number would draw another sample than the text that
            records it).
    """
    if seed is None or isinstance(seed, PrivateSeed):
        return seed
    if not isinstance(seed, str):
        raise UsageError(f"the seed must be a text or a screening.PrivateSeed, not {type(seed).__name__}")
    if not seed.strip():
        raise UsageError(
            f"the seed is empty ({seed!r}): give a text other than blanks (or leave it out for the rule pack's own)"
        )
    return seed


def seed_text(seed: Seed) -> str:
    """The text the sample and the tie-break hash (the private seed's value)."""
    return seed.value if isinstance(seed, PrivateSeed) else seed


def seed_record(seed: Seed) -> dict[str, str]:
    """How outputs record ``seed``: ``{"seed": text}`` when public; ``{"seed_private": "true", "seed_id": ...}``
    when private (never the seed)."""
    if isinstance(seed, PrivateSeed):
        return {"seed_private": "true", "seed_id": seed.id}
    return {"seed": seed}


def seed_described(record: dict[str, str]) -> str:
    """A :func:`seed_record` (as a summary or state holds it) in words, for messages."""
    if record.get("seed_private") == "true":
        return f"a private seed (id {record.get('seed_id')})"
    return f"seed {record.get('seed')!r}"
