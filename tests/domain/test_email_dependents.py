"""What of a sign-in experience needs the Email connector: the delete guard's list (the rules'
names) and the console warning's words, mirroring the SMS ones."""

from __future__ import annotations

from phoneauth.domain.sign_in_experience import SignInExperience


def document(**fields: object) -> SignInExperience:
    base: dict[str, object] = {
        "signUp": {"identifiers": [], "password": True, "verify": True},
        "signIn": {"methods": []},
    }
    return SignInExperience.model_validate(base | fields)


def test_a_phone_only_document_needs_no_email_connector() -> None:
    phone = document(
        signUp={"identifiers": ["phone"], "password": False, "verify": True},
        signIn={"methods": [{"identifier": "phone", "password": False, "verificationCode": True}]},
    )
    assert phone.email_dependents() == []
    assert phone.email_features() == ()


def test_every_email_setting_is_named() -> None:
    email = document(
        signUp={"identifiers": ["email"], "password": True, "verify": True},
        signIn={"methods": [{"identifier": "email", "password": True, "verificationCode": True}]},
        forgotPasswordMethods=["EmailVerificationCode"],
        mfa={"factors": ["EmailVerificationCode"]},
    )
    assert email.email_dependents() == [
        "signUp.identifiers: email",
        "signIn.methods: email + verification code",
        "forgotPasswordMethods: EmailVerificationCode",
        "mfa.factors: EmailVerificationCode",
    ]
    assert email.email_features() == (
        "sign-up with an email address",
        "sign-in with a code by email",
        "password reset by email",
        "two-step verification by email",
    )


def test_password_sign_in_by_email_resets_by_email_unless_the_methods_say_otherwise() -> None:
    methods = {"methods": [{"identifier": "email", "password": True, "verificationCode": False}]}
    default = document(signIn=methods)
    assert default.email_dependents() == [
        "signIn.methods: email + password (forgot password by email)"
    ]
    by_phone = document(signIn=methods, forgotPasswordMethods=["PhoneVerificationCode"])
    assert by_phone.email_dependents() == []
