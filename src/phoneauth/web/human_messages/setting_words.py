"""Sign-in experience settings in an admin's words instead of Logto's config paths.

The API names a setting by its path (`signUp.identifiers: phone` in `details.dependents` and
`details.setting`, Logto's wording, unchanged); the console says what the setting does.
"""

from __future__ import annotations

SETTING_WORDS: dict[str, str] = {
    # what depends on a connector (`SignInExperience.sms_dependents`, `email_dependents`)
    # and rule settings
    "signUp.identifiers: phone": "Sign-up asks for a phone number",
    "signUp.identifiers: email": "Sign-up asks for an email address",
    "signUp.identifiers: emailOrPhone": "Sign-up asks for an email address or a phone number",
    "signUp.secondaryIdentifiers: phone": "Sign-up also asks for a phone number",
    "signUp.secondaryIdentifiers: email": "Sign-up also asks for an email address",
    "signUp.secondaryIdentifiers: emailOrPhone": (
        "Sign-up also asks for an email address or a phone number"
    ),
    "signIn.methods: phone + verification code": "Sign-in by phone number and verification code",
    "signIn.methods: email + verification code": ("Sign-in by email address and verification code"),
    "signIn.methods: phone + password (forgot password by SMS)": (
        "Password reset by SMS for people who sign in with phone number and password"
    ),
    "forgotPasswordMethods: PhoneVerificationCode": "Password reset by a code sent by SMS",
    "signIn.methods: email + password (forgot password by email)": (
        "Password reset by email for people who sign in with email address and password"
    ),
    "forgotPasswordMethods: EmailVerificationCode": "Password reset by a code sent by email",
    "mfa.factors: PhoneVerificationCode": "Two-step verification by SMS",
    "mfa.factors: EmailVerificationCode": "Two-step verification by email",
    # bare settings named by the rules
    "signUp.identifiers": "The sign-up identifier",
    "signUp.verify": "“Verification required”",
    "signUp.secondaryIdentifiers.verify": "Verification of the additional sign-up identifier",
    "signIn.methods": "The sign-in methods",
    "mfa.factors": "Two-step verification",
}


def setting_in_words(path: str) -> str:
    """The words for a setting; an unknown path (a newer rule) is still named, never dropped."""
    return SETTING_WORDS.get(path, f"The sign-in setting {path}")
