"""The signed (tenant, id) pairs the interaction and authorization cookies carry."""

from __future__ import annotations

import pytest
from itsdangerous import Signer, URLSafeSerializer

from phoneauth.web.signed_pairs import SignedPairs

KEY, SALT = b"s" * 32, "phoneauth.interaction-cookie"


def test_a_pair_reads_back_as_written() -> None:
    pairs = SignedPairs(KEY, SALT)
    token = pairs.dumps("acme-2", "abcdefghijklmnopqrstu")
    assert token.startswith("acme-2:abcdefghijklmnopqrstu.")
    assert pairs.loads(token) == ("acme-2", "abcdefghijklmnopqrstu")


def test_an_authorization_uid_reads_back_whole() -> None:
    # URL-safe base64: `-` and `_`, never the separator.
    pairs = SignedPairs(KEY, SALT)
    assert pairs.loads(pairs.dumps("default", "a-b_c")) == ("default", "a-b_c")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "default:abc",  # no signature
        "default:abc.",
        "default:abd.{signature}",  # another id under this id's signature
        "other:abc.{signature}",  # another tenant
        "default:abc.{signature}x",
        "\u00e9:abc.{signature}",
    ],
)
def test_anything_but_the_signed_pair_is_none(token: str) -> None:
    pairs = SignedPairs(KEY, SALT)
    signature = pairs.dumps("default", "abc").rpartition(".")[2]
    assert pairs.loads(token.format(signature=signature)) is None


def test_another_key_or_salt_is_refused() -> None:
    token = SignedPairs(KEY, SALT).dumps("default", "abc")
    assert SignedPairs(b"t" * 32, SALT).loads(token) is None
    assert SignedPairs(KEY, "phoneauth.oidc-authorization").loads(token) is None


def test_a_token_of_the_earlier_form_is_still_read() -> None:
    # What the cookies carried before: the pair as JSON through `URLSafeSerializer`.
    earlier = URLSafeSerializer(KEY, salt=SALT).dumps(["default", "abcdefghijklmnopqrstu"])
    assert SignedPairs(KEY, SALT).loads(earlier) == ("default", "abcdefghijklmnopqrstu")


@pytest.mark.parametrize("payload", [["default"], ["default", 7], {"a": "b"}, "default"])
def test_an_earlier_token_that_holds_no_pair_is_none(payload: object) -> None:
    earlier = URLSafeSerializer(KEY, salt=SALT).dumps(payload)
    assert SignedPairs(KEY, SALT).loads(earlier) is None


def test_a_signed_value_that_is_no_payload_is_none() -> None:
    # Signed with the key (so only phoneauth could have made it), yet neither form.
    assert SignedPairs(KEY, SALT).loads(Signer(KEY, salt=SALT).sign("!!").decode()) is None
