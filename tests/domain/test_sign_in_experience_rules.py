"""Logto's rules on a sign-in experience change, one by one, with Logto's codes."""

from __future__ import annotations

from typing import Any

import pytest

from phoneauth.domain.sign_in_experience import SignInExperience, default_sign_in_experience
from phoneauth.domain.sign_in_experience_rules import (
    AuthenticationFactorRequiredError,
    BackupCodeAloneError,
    CodeSignInRequiredError,
    ConnectorRequiredError,
    DuplicatedMfaFactorsError,
    DuplicatedSignUpIdentifiersError,
    EmailCodeCannotBeUsedForMfaError,
    EmailCodeCannotBeUsedForSignInError,
    ForgotPasswordConnectorError,
    MissingSignUpIdentifiersError,
    PasswordlessRequiresVerifyError,
    PhoneCodeCannotBeUsedForMfaError,
    PhoneCodeCannotBeUsedForSignInError,
    SignInExperienceRuleError,
    SignUpIdentifierNotInSignInError,
    check_changes,
)

PHONE_CODE = {"identifier": "phone", "password": False, "verificationCode": True}
PHONE_PASSWORD = {"identifier": "phone", "password": True, "verificationCode": False}
USERNAME_PASSWORD = {"identifier": "username", "password": True, "verificationCode": False}
EMAIL_PASSWORD = {"identifier": "email", "password": True, "verificationCode": False}
EMAIL_CODE = {"identifier": "email", "password": False, "verificationCode": True}


def document(**changes: Any) -> SignInExperience:
    """The default document with Logto-named top-level keys replaced."""
    base = default_sign_in_experience(has_sms=True).model_dump(by_alias=True)
    return SignInExperience.model_validate(base | changes)


def changed(
    doc: SignInExperience, *keys: str, has_sms: bool = True, has_email: bool = False
) -> None:
    check_changes(doc, set(keys), has_sms=has_sms, has_email=has_email)


def refused(
    doc: SignInExperience, *keys: str, has_sms: bool = True, has_email: bool = False
) -> SignInExperienceRuleError:
    with pytest.raises(SignInExperienceRuleError) as info:
        changed(doc, *keys, has_sms=has_sms, has_email=has_email)
    assert info.value.status == 400
    return info.value


def test_the_default_document_passes_every_rule_with_an_sms_connector() -> None:
    changed(
        default_sign_in_experience(has_sms=True),
        "sign_up",
        "sign_in",
        "mfa",
        "forgot_password_methods",
    )


@pytest.mark.parametrize(
    "sign_up",
    [
        {"identifiers": ["phone"], "password": False, "verify": True},
        {
            "identifiers": ["username"],
            "password": True,
            "verify": True,
            "secondaryIdentifiers": [{"identifier": "phone", "verify": True}],
        },
    ],
)
def test_phone_sign_up_needs_an_sms_connector(sign_up: dict[str, Any]) -> None:
    methods = [PHONE_CODE, USERNAME_PASSWORD]
    doc = document(signUp=sign_up, signIn={"methods": methods})
    error = refused(doc, "sign_up", has_sms=False)
    assert isinstance(error, ConnectorRequiredError)
    assert error.code == "sign_in_experiences.enabled_connector_not_found"
    assert error.details["type"] == "Sms"
    assert error.message == "Enabled Sms connector not found."
    changed(doc, "sign_up", "sign_in", has_sms=True)


def test_email_or_phone_as_secondary_needs_both_connectors_so_is_refused() -> None:
    sign_up = {
        "identifiers": ["username"],
        "password": True,
        "verify": True,
        "secondaryIdentifiers": [{"identifier": "emailOrPhone", "verify": True}],
    }
    doc = document(signUp=sign_up, signIn={"methods": [USERNAME_PASSWORD]})
    error = refused(doc, "sign_up", has_sms=True)
    assert (error.code, error.details["type"]) == (ConnectorRequiredError.code, "Email")


def test_email_sign_up_is_refused_there_is_never_an_email_connector() -> None:
    sign_up = {"identifiers": ["email"], "password": True, "verify": True}
    doc = document(signUp=sign_up, signIn={"methods": [EMAIL_PASSWORD]})
    error = refused(doc, "sign_up")
    assert (error.code, error.details["type"]) == (ConnectorRequiredError.code, "Email")


def test_code_sign_in_by_phone_needs_an_sms_connector_and_by_email_is_refused() -> None:
    error = refused(document(), "sign_in", has_sms=False)
    assert (error.code, error.details["type"]) == (ConnectorRequiredError.code, "Sms")
    assert error.details["setting"] == "signIn.methods: phone + verification code"
    with_email = document(signIn={"methods": [PHONE_CODE, EMAIL_CODE]})
    error = refused(with_email, "sign_in")
    assert (error.code, error.details["type"]) == (ConnectorRequiredError.code, "Email")


def test_password_only_phone_sign_in_needs_no_connector() -> None:
    doc = document(
        signUp={"identifiers": ["phone"], "password": True, "verify": True},
        signIn={"methods": [PHONE_PASSWORD]},
    )
    changed(doc, "sign_in", has_sms=False)


@pytest.mark.parametrize(
    "sign_up",
    [
        {"identifiers": ["phone"], "password": True, "verify": False},
        {
            "identifiers": ["username"],
            "password": True,
            "verify": False,
            "secondaryIdentifiers": [{"identifier": "phone"}],
        },
        {
            "identifiers": ["username"],
            "password": True,
            "verify": True,
            "secondaryIdentifiers": [{"identifier": "phone", "verify": False}],
        },
    ],
)
def test_passwordless_identifiers_must_verify(sign_up: dict[str, Any]) -> None:
    doc = document(signUp=sign_up, signIn={"methods": [PHONE_PASSWORD, USERNAME_PASSWORD]})
    assert isinstance(refused(doc, "sign_up"), PasswordlessRequiresVerifyError)


def test_username_sign_up_without_verify_is_fine() -> None:
    doc = document(
        signUp={"identifiers": ["username"], "password": True, "verify": False},
        signIn={"methods": [USERNAME_PASSWORD]},
    )
    changed(doc, "sign_up", "sign_in", has_sms=False)


def test_secondary_identifiers_need_a_primary() -> None:
    sign_up = {
        "identifiers": [],
        "password": False,
        "verify": True,
        "secondaryIdentifiers": [{"identifier": "phone", "verify": True}],
    }
    assert isinstance(refused(document(signUp=sign_up), "sign_up"), MissingSignUpIdentifiersError)


@pytest.mark.parametrize(
    ("identifiers", "secondary"),
    [
        (["phone", "phone"], []),
        (["phone"], ["phone"]),
        (["username"], ["phone", "phone"]),
        (["phone"], ["emailOrPhone"]),
        (["username"], ["phone", "emailOrPhone"]),
    ],
)
def test_duplicated_sign_up_identifiers(identifiers: list[str], secondary: list[str]) -> None:
    sign_up = {
        "identifiers": identifiers,
        "password": True,
        "verify": True,
        "secondaryIdentifiers": [{"identifier": item, "verify": True} for item in secondary],
    }
    doc = document(signUp=sign_up, signIn={"methods": [PHONE_CODE, USERNAME_PASSWORD]})
    assert isinstance(refused(doc, "sign_up"), DuplicatedSignUpIdentifiersError)


def test_the_sign_up_identifier_must_be_a_sign_in_method() -> None:
    sign_up = {"identifiers": ["phone"], "password": True, "verify": True}
    doc = document(signUp=sign_up, signIn={"methods": [USERNAME_PASSWORD]})
    for keys in (("sign_up",), ("sign_in",)):
        error = refused(doc, *keys)
        assert isinstance(error, SignUpIdentifierNotInSignInError)
        assert error.code == "sign_in_experiences.miss_sign_up_identifier_in_sign_in"
        assert error.details["identifiers"] == ["phone"]


def test_every_sign_in_method_needs_a_factor() -> None:
    method = {"identifier": "phone", "password": False, "verificationCode": False}
    doc = document(signIn={"methods": [PHONE_CODE, method]})
    assert isinstance(refused(doc, "sign_in"), AuthenticationFactorRequiredError)


def test_code_sign_in_must_be_enabled_when_sign_up_sets_no_password() -> None:
    # Sign-up verifies the phone and sets no password: a password-only method locks users out.
    doc = document(signIn={"methods": [PHONE_PASSWORD]})
    assert isinstance(refused(doc, "sign_in"), CodeSignInRequiredError)
    # Changing only the sign-up side is checked against the stored methods too.
    stored = document(
        signUp={"identifiers": ["phone"], "password": True, "verify": True},
        signIn={"methods": [PHONE_PASSWORD]},
    )
    changed(stored, "sign_up")
    no_password = stored.model_copy(
        update={"sign_up": stored.sign_up.model_copy(update={"password": False})}
    )
    assert isinstance(refused(no_password, "sign_up"), CodeSignInRequiredError)


def test_phone_code_is_either_a_sign_in_method_or_an_mfa_factor() -> None:
    both = document(mfa={"factors": ["PhoneVerificationCode"], "policy": "Mandatory"})
    error = refused(both, "sign_in")
    assert isinstance(error, PhoneCodeCannotBeUsedForSignInError)
    assert error.code == "sign_in_experiences.phone_verification_code_cannot_be_used_for_sign_in"
    error = refused(both, "mfa")
    assert isinstance(error, PhoneCodeCannotBeUsedForMfaError)
    assert error.code == "sign_in_experiences.phone_verification_code_cannot_be_used_for_mfa"
    assert isinstance(refused(both, "sign_in", "mfa"), PhoneCodeCannotBeUsedForSignInError)
    password_sign_in = document(
        signUp={"identifiers": ["phone"], "password": True, "verify": True},
        signIn={"methods": [PHONE_PASSWORD]},
        mfa={"factors": ["PhoneVerificationCode"], "policy": "Mandatory"},
    )
    changed(password_sign_in, "sign_up", "sign_in", "mfa")


def test_email_code_is_either_a_sign_in_method_or_an_mfa_factor_checked_before_phone() -> None:
    both = document(
        signUp={"identifiers": ["email"], "password": False, "verify": True},
        signIn={"methods": [EMAIL_CODE, PHONE_CODE]},
        mfa={"factors": ["EmailVerificationCode", "PhoneVerificationCode"], "policy": "Mandatory"},
    )
    error = refused(both, "sign_in", has_email=True)
    assert isinstance(error, EmailCodeCannotBeUsedForSignInError)
    assert error.code == "sign_in_experiences.email_verification_code_cannot_be_used_for_sign_in"
    error = refused(both, "mfa", has_email=True)
    assert isinstance(error, EmailCodeCannotBeUsedForMfaError)
    assert error.code == "sign_in_experiences.email_verification_code_cannot_be_used_for_mfa"
    password_sign_in = document(
        signUp={"identifiers": ["email"], "password": True, "verify": True},
        signIn={"methods": [EMAIL_PASSWORD]},
        mfa={"factors": ["EmailVerificationCode"], "policy": "Mandatory"},
    )
    changed(password_sign_in, "sign_up", "sign_in", "mfa", has_email=True)


def test_sms_mfa_needs_an_sms_connector_and_email_mfa_is_refused() -> None:
    doc = document(
        signUp={"identifiers": ["phone"], "password": True, "verify": True},
        signIn={"methods": [PHONE_PASSWORD]},
        mfa={"factors": ["PhoneVerificationCode"], "policy": "Mandatory"},
    )
    error = refused(doc, "mfa", has_sms=False)
    assert (error.code, error.details["type"]) == (ConnectorRequiredError.code, "Sms")
    email = doc.model_copy(
        update={"mfa": doc.mfa.model_copy(update={"factors": ["EmailVerificationCode", "Totp"]})}
    )
    error = refused(email, "mfa")
    assert (error.code, error.details["type"]) == (ConnectorRequiredError.code, "Email")


def test_mfa_factors_are_unique_and_backup_codes_never_alone() -> None:
    twice = document(mfa={"factors": ["Totp", "Totp"], "policy": "Mandatory"})
    assert isinstance(refused(twice, "mfa"), DuplicatedMfaFactorsError)
    alone = document(mfa={"factors": ["BackupCode"], "policy": "Mandatory"})
    assert isinstance(refused(alone, "mfa"), BackupCodeAloneError)
    changed(document(mfa={"factors": ["Totp", "BackupCode"], "policy": "Mandatory"}), "mfa")


def test_forgot_password_methods_need_their_connector() -> None:
    by_sms = document(forgotPasswordMethods=["PhoneVerificationCode"])
    changed(by_sms, "forgot_password_methods", has_sms=True)
    error = refused(by_sms, "forgot_password_methods", has_sms=False)
    assert isinstance(error, ForgotPasswordConnectorError)
    assert error.details == {"method": "sms"}
    by_email = document(forgotPasswordMethods=["EmailVerificationCode"])
    assert refused(by_email, "forgot_password_methods").details == {"method": "email"}
    changed(document(forgotPasswordMethods=None), "forgot_password_methods", has_sms=False)


def test_rules_run_only_for_the_changed_fields() -> None:
    """As in Logto: after a forced connector deletion, unrelated changes still save."""
    changed(
        default_sign_in_experience(has_sms=True),
        "sign_in_mode",
        "forgot_password_methods",
        has_sms=False,
    )


@pytest.mark.parametrize(
    ("changes", "dependents"),
    [
        ({}, ["signUp.identifiers: phone", "signIn.methods: phone + verification code"]),
        (
            {
                "signUp": {
                    "identifiers": ["username"],
                    "password": True,
                    "verify": True,
                    "secondaryIdentifiers": [{"identifier": "phone", "verify": True}],
                },
                "signIn": {"methods": [USERNAME_PASSWORD, PHONE_PASSWORD]},
            },
            [
                "signUp.secondaryIdentifiers: phone",
                "signIn.methods: phone + password (forgot password by SMS)",
            ],
        ),
        (
            {
                "signUp": {"identifiers": ["username"], "password": True, "verify": False},
                "signIn": {"methods": [USERNAME_PASSWORD]},
                "forgotPasswordMethods": ["PhoneVerificationCode"],
                "mfa": {"factors": ["PhoneVerificationCode"], "policy": "Mandatory"},
            },
            ["forgotPasswordMethods: PhoneVerificationCode", "mfa.factors: PhoneVerificationCode"],
        ),
        (
            {
                "signUp": {"identifiers": ["username"], "password": True, "verify": False},
                "signIn": {"methods": [USERNAME_PASSWORD]},
            },
            [],
        ),
        (
            {
                "signUp": {"identifiers": ["phone"], "password": True, "verify": True},
                "signIn": {"methods": [PHONE_PASSWORD]},
                "forgotPasswordMethods": [],
            },
            ["signUp.identifiers: phone"],
        ),
    ],
)
def test_sms_dependents_name_each_setting(changes: dict[str, Any], dependents: list[str]) -> None:
    assert document(**changes).sms_dependents() == dependents
