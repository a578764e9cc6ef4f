"""Sign-in identifiers that go with a password: Logto's `findUserByIdentifier`
(logto-parity §2.4) and the typed identifier a password record keeps.

A username is matched exactly, or without regard to case when the username policy says so; an
email address by its lower-cased key; a phone number by its E.164 form.
"""

from __future__ import annotations

from typing import Literal

from phoneauth.domain.emails import email_key
from phoneauth.domain.interactions import EmailIdentifier, PhoneIdentifier, UsernameIdentifier
from phoneauth.domain.phone_numbers import parse_phone
from phoneauth.domain.sign_in_experience import SignInExperience
from phoneauth.domain.users import User, UserStore

IdentifierType = Literal["username", "email", "phone"]
Identifier = PhoneIdentifier | UsernameIdentifier | EmailIdentifier


def canonical(kind: IdentifierType, value: str) -> Identifier:
    """The identifier as looked up and kept. A phone must parse (400 otherwise, as before);
    a username or an email is kept as typed: Logto does not check their syntax here."""
    if kind == "phone":
        return PhoneIdentifier(value=parse_phone(value))
    if kind == "email":
        return EmailIdentifier(value=value)
    return UsernameIdentifier(value=value)


def lockout_key(identifier: Identifier) -> str:
    """What wrong passwords are counted against. Phones start with `+`, emails hold `@` and
    usernames have neither, so the three never share a counter."""
    if isinstance(identifier, EmailIdentifier):
        return email_key(identifier.value)
    if isinstance(identifier, UsernameIdentifier):
        return identifier.value.lower()
    return identifier.value


async def find_user(
    users: UserStore, tenant_id: str, experience: SignInExperience, identifier: Identifier
) -> User | None:
    """Logto's `findUserByIdentifier`."""
    if isinstance(identifier, UsernameIdentifier):
        case_sensitive = experience.username_policy.case_sensitive
        return await users.find_by_username(
            tenant_id, identifier.value, case_sensitive=case_sensitive
        )
    if isinstance(identifier, EmailIdentifier):
        return await users.find_by_email(tenant_id, identifier.value)
    return await users.find_by_phone(tenant_id, identifier.value)
