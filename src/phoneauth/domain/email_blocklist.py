"""The sign-in experience's `emailBlocklistPolicy`, enforced where Logto enforces it: an address
a person gives to register, bind or change to (Experience API and Account API), never at
sign-in, so a blocklist added later locks nobody out of an existing account.

Logto compares the domain as typed; phoneauth compares domains without regard to case (stored
addresses have a lower-cased domain already), so `@Example.com` in the list also blocks
`jane@example.com`. Disposable-address checks call Logto Cloud's service, which a self-hosted
Logto refuses to enable; so does phoneauth.
"""

from __future__ import annotations

import re

from phoneauth.domain.sign_in_experience_fields import EmailBlocklistPolicy
from phoneauth.errors import PhoneauthError

LIST_ITEM = re.compile(r"^\S+@\S+\.\S+|^@\S+\.\S+$")
"""Logto's `emailOrEmailDomainRegEx`: an address, or a domain written `@example.com`."""


class InvalidBlocklistEmailError(PhoneauthError):
    """The address has no domain."""

    code = "session.email_blocklist.invalid_email"
    status = 400


class SubaddressingNotAllowedError(PhoneauthError):
    """`name+tag@example.com` while the tenant blocks subaddressing."""

    code = "session.email_blocklist.email_subaddressing_not_allowed"
    status = 422


class EmailNotAllowedError(PhoneauthError):
    """The address, or its domain, is in the tenant's custom blocklist."""

    code = "session.email_blocklist.email_not_allowed"
    status = 422


class InvalidCustomBlocklistError(PhoneauthError):
    """A `customBlocklist` entry is neither an address nor `@domain`; `details.items` lists
    them."""

    code = "sign_in_experiences.invalid_custom_email_blocklist_format"
    status = 400


class DisposableCheckUnavailableError(PhoneauthError):
    """`blockDisposableAddresses` needs Logto Cloud's validation service."""

    code = "request.invalid_input"
    status = 400


EMAIL_BLOCKLIST_ERRORS = (
    InvalidBlocklistEmailError,
    SubaddressingNotAllowedError,
    EmailNotAllowedError,
)
"""What an address given to register, bind or change to may be refused with."""
EMAIL_BLOCKLIST_POLICY_ERRORS = (InvalidCustomBlocklistError, DisposableCheckUnavailableError)
"""What saving a malformed policy is refused with."""


def parse_blocklist_policy(policy: EmailBlocklistPolicy) -> EmailBlocklistPolicy:
    """The policy as saved: the custom list without duplicates (first kept), each entry checked.

    Raises:
        DisposableCheckUnavailableError: `blockDisposableAddresses` is on.
        InvalidCustomBlocklistError: an entry is malformed.
    """
    if policy.block_disposable_addresses:
        raise DisposableCheckUnavailableError(
            "Disposable email domain validation is not supported in this environment"
        )
    if policy.custom_blocklist is None:
        return policy
    unique = list(dict.fromkeys(policy.custom_blocklist))
    invalid = [item for item in unique if not LIST_ITEM.match(item)]
    if invalid:
        raise InvalidCustomBlocklistError(
            "Invalid custom email blocklist format: each entry is an address or @domain.",
            items=invalid,
        )
    return policy.model_copy(update={"custom_blocklist": unique})


def ensure_email_allowed(policy: EmailBlocklistPolicy, email: str) -> None:
    """Logto's order: an address without a domain, subaddressing, then the custom list.

    Raises:
        InvalidBlocklistEmailError, SubaddressingNotAllowedError, EmailNotAllowedError.
    """
    local, _, domain = email.rpartition("@")
    if not local or not domain:
        raise InvalidBlocklistEmailError("Invalid email address.")
    domain = domain.lower()
    if policy.block_subaddressing and "+" in local:
        raise SubaddressingNotAllowedError("Email subaddressing is not allowed.")
    for item in policy.custom_blocklist or ():
        if item.startswith("@"):
            blocked = domain == item[1:].lower()
        else:
            item_local, _, item_domain = item.rpartition("@")
            blocked = (item_local, item_domain.lower()) == (local, domain)
        if blocked:
            raise EmailNotAllowedError(
                "This email address is restricted. Please choose a different one."
            )
