"""Password hashing with Argon2id (argon2-cffi), and the fixed minimum of console admins'
passwords. End users' passwords follow the tenant's policy instead (`password_policy`)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from phoneauth.errors import PhoneauthError

_HASHER = PasswordHasher()
MIN_LENGTH = 8
MAX_LENGTH = 256


class PasswordRejectedError(PhoneauthError):
    """The password does not meet the policy: at least 8 characters, not only digits."""

    code = "password.rejected"
    status = 422


class SamePasswordError(PhoneauthError):
    """The new password is the same as the current one. Choose a different password."""

    # Logto's code and status (`user.same_password`, reference/logto-parity.md §3.5, §5.3).
    code = "user.same_password"
    status = 422


def check_policy(password: str) -> None:
    """The console admins' rule; no tenant's sign-in experience governs them."""
    if len(password) < MIN_LENGTH or len(password) > MAX_LENGTH:
        raise PasswordRejectedError(f"Use {MIN_LENGTH} to {MAX_LENGTH} characters.")
    if password.isdigit():
        raise PasswordRejectedError("Use letters or symbols as well as digits.")


def hash_password(password: str) -> str:
    check_policy(password)
    return _HASHER.hash(password)


def hash_any_password(password: str) -> str:
    """Without the fixed minimum: an admin may set any password, as in Logto's Management API;
    and a password the tenant's policy (`password_policy`) has already accepted."""
    return _HASHER.hash(password)


@functools.cache
def decoy_hash() -> str:
    """Checked against when the account asked for does not exist, so an unknown name costs the
    time a wrong password does. Made when first asked for (`phoneauth serve` asks at start),
    not at import, which cost every command-line command ~0.1 s."""
    return _HASHER.hash("phoneauth decoy password")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-time by construction; False for users without a password."""
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
