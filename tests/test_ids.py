"""Random ids: Logto's alphabet and length, every character drawn evenly."""

from __future__ import annotations

import collections
import re

from phoneauth.ids import ALPHABET, new_id


def test_ids_are_21_lower_case_letters_and_digits_by_default() -> None:
    ids = {new_id() for _ in range(1_000)}
    assert len(ids) == 1_000
    assert all(re.fullmatch(r"[a-z2-7]{21}", value) for value in ids)
    assert len(new_id(12)) == 12


def test_every_character_of_the_alphabet_is_about_as_likely() -> None:
    counts = collections.Counter("".join(new_id() for _ in range(4_000)))  # 84,000 characters
    assert set(counts) == set(ALPHABET.decode())
    expected = 84_000 / 32
    assert all(abs(count - expected) < 0.1 * expected for count in counts.values())
