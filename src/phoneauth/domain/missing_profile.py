"""Logto's `user.missing_profile` (logto-parity §3.6): what the sign-up settings demand of an
account, named as Logto's `MissingProfile` values, checked at Register identification and at
submit."""

from __future__ import annotations

from phoneauth.domain.sign_in_experience import SignInExperience, SignInIdentifier


def missing_profile(
    experience: SignInExperience,
    phone: str | None,
    password: bool,
    username: str | None = None,
    email: str | None = None,
) -> list[str]:
    """Logto's `MissingProfile` names for what the sign-up settings demand and the user lacks
    (logto-parity §3.6).

    One primary identifier is mandatory: the username when it is one, else the email
    (`emailOrPhone` when the phone is one too), else the phone; each secondary identifier adds
    itself. A field is missing when neither the account nor the pending profile has it.
    """
    wanted: list[str] = []
    if experience.sign_up.password:
        wanted.append("password")
    identifiers = set(experience.sign_up.identifiers)
    if SignInIdentifier.USERNAME in identifiers:
        wanted.append("username")
    elif SignInIdentifier.EMAIL in identifiers:
        wanted.append("emailOrPhone" if SignInIdentifier.PHONE in identifiers else "email")
    elif SignInIdentifier.PHONE in identifiers:
        wanted.append("phone")
    wanted += [str(item.identifier) for item in experience.sign_up.secondary_identifiers]
    has = {
        "password": password,
        "username": username is not None,
        "email": email is not None,
        "phone": phone is not None,
        "emailOrPhone": email is not None or phone is not None,
    }
    return [name for name in dict.fromkeys(wanted) if not has.get(name, True)]
