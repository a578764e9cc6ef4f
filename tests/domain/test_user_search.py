"""Logto's search parameters read from a query, and the pattern translations SQLite needs."""

from __future__ import annotations

import re
import sqlite3

import pytest

from phoneauth.domain.emails import InvalidEmailError, email_key, normalise_email
from phoneauth.domain.user_search import (
    InvalidSearchError,
    SearchMode,
    like_to_glob,
    parse_user_search,
    similar_to_regex,
)


def test_search_reads_fields_modes_and_joint() -> None:
    search = parse_user_search(
        [
            ("search", "%a%"),
            ("search.primaryEmail", "x@y.z"),
            ("search.primaryEmail", "q@y.z"),
            ("mode.primaryEmail", "exact"),
            ("joint", "and"),
            ("page", "2"),  # not the parser's business
        ]
    )
    every, email = search.conditions
    assert (every.fields, every.mode, every.values) == ((), SearchMode.LIKE, ("%a%",))
    assert (email.fields, email.mode, email.values) == (
        ("primary_email",),
        SearchMode.EXACT,
        ("x@y.z", "q@y.z"),
    )
    assert (search.joint_and, search.case_sensitive) == (True, False)
    assert parse_user_search([("page", "1")]).empty


def test_exact_phone_search_also_looks_for_e164() -> None:
    search = parse_user_search([("search.primaryPhone", "4915112345678"), ("mode", "exact")])
    assert search.conditions[0].values == ("4915112345678", "+4915112345678")


def test_a_bad_search_says_which_parameter() -> None:
    with pytest.raises(InvalidSearchError) as raised:
        parse_user_search([("search.nope", "x")])
    assert "search.nope" in raised.value.message


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("a%", ["a", "abc"], ["ba", "A"]),
        ("a_c", ["abc"], ["ac", "abbc"]),
        (r"100\%", ["100%"], ["1000"]),
        ("[x]*?", ["[x]*?"], ["x", "[x]ab"]),
    ],
)
def test_like_to_glob_keeps_like_meaning_case_sensitively(
    pattern: str, matches: list[str], misses: list[str]
) -> None:
    glob = like_to_glob(pattern)
    with sqlite3.connect(":memory:") as connection:
        for text in matches:
            assert connection.execute("SELECT ? GLOB ?", (text, glob)).fetchone() == (1,)
        for text in misses:
            assert connection.execute("SELECT ? GLOB ?", (text, glob)).fetchone() == (0,)


def test_similar_to_is_anchored_and_keeps_dots_literal() -> None:
    regex = re.compile(similar_to_regex("(a|b)%.c_"))
    assert regex.search("axyz.cd")
    assert not regex.search("axyzXcd")
    assert not regex.search("zaxyz.cd")


def test_emails_keep_the_local_part_and_lower_the_domain() -> None:
    assert normalise_email("Ada.L@Example.COM") == "Ada.L@example.com"
    assert email_key("Ada.L@example.com") == "ada.l@example.com"
    for bad in ("ada", "ada@example", "a..b@example.com", "a@b@example.com"):
        with pytest.raises(InvalidEmailError):
            normalise_email(bad)
