"""The one parser of the vocabularies people type (kind, status, decision, rating): any case, canonical out."""

from __future__ import annotations

import enum

import pytest

from micromoves.domain import vocabulary
from micromoves.domain.errors import InvalidValue
from micromoves.domain.model import Decision, MoveKind, MoveStatus, Rating

VOCABULARIES: list[type[enum.StrEnum]] = [MoveKind, MoveStatus, Decision, Rating]


@pytest.mark.parametrize("cls", VOCABULARIES, ids=lambda c: c.__name__)
def test_every_value_is_read_in_any_case_and_given_back_canonical(cls: type[enum.StrEnum]) -> None:
    for member in cls:
        for typed in (member.value, member.value.upper(), member.value.title(), f" {member.value.capitalize()}\t"):
            found = vocabulary.parse(cls, typed)
            assert found is member and found.value == member.value.lower(), typed
        assert vocabulary.parse(cls, member) is member
    # no two values of a vocabulary differ only in case: reading the case loosely cannot mix two up
    assert len({m.value.lower() for m in cls}) == len(cls)


@pytest.mark.parametrize(
    ("cls", "raw", "message"),
    [
        (MoveStatus, "finished", "unknown status 'finished'; one of: proposed, requested, approved, onboarding, "
         "active, in_review, completed, declined, withdrawn, reverted"),
        (MoveKind, "Sabbatical", "unknown move kind 'Sabbatical'; one of: stretch_assignment, rotation, "
         "lateral_swap, temporary_lead, gig, acting_role, responsibility_handoff, shadowing, mentoring, course"),
        (Decision, "in review", "unknown decision 'in review'; one of: continue, extend, convert, revert, end"),
        (Rating, "partly met", "unknown rating 'partly met'; one of: met, partly_met, not_met"),
        (Rating, "", "unknown rating ''; one of: met, partly_met, not_met"),
        (Rating, 1, "unknown rating 1; one of: met, partly_met, not_met"),
        (MoveStatus, Rating.MET, "unknown status <Rating.MET: 'met'>; one of: proposed"),  # another vocabulary's
    ],
)  # fmt: skip
def test_anything_else_is_refused_naming_the_field_and_every_accepted_value(
    cls: type[enum.StrEnum], raw: object, message: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        vocabulary.parse(cls, raw, field="the_field")
    assert refused.value.message.startswith(message) and refused.value.field == "the_field"
