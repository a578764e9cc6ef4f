"""The one table of sentences people read: every error code phoneauth answers has one, for end
users and for admins; settings and pydantic's field errors are said in words."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import phoneauth
from phoneauth.domain.sign_in_experience import SignInExperience, default_sign_in_experience
from phoneauth.domain.sign_in_experience_rules import SignInExperienceRuleError, check_changes
from phoneauth.errors import PhoneauthError
from phoneauth.web.human_messages import (
    ADMIN_FALLBACK,
    END_USER_BY_KIND,
    END_USER_FALLBACK,
    MESSAGES,
    SETTING_WORDS,
    SMS_UNAVAILABLE,
    admin_sentence,
    describe,
    end_user_sentence,
    end_user_table,
    problem_sentence,
    setting_in_words,
)

SRC = Path(phoneauth.__file__).parent
CODE = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def _codes_in_source() -> set[str]:
    """Codes written in the source: `code = "..."` in a class, `envelope(status, "code", ...)`,
    and `{404: "entity.not_found"}`-style maps of status to a dotted code."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    targets = (
                        item.targets
                        if isinstance(item, ast.Assign)
                        else [item.target]
                        if isinstance(item, ast.AnnAssign)
                        else []
                    )
                    value = getattr(item, "value", None)
                    if any(isinstance(t, ast.Name) and t.id == "code" for t in targets) and (
                        isinstance(value, ast.Constant) and isinstance(value.value, str)
                    ):
                        found.add(value.value)
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "envelope":
                code = node.args[1] if len(node.args) > 1 else None
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    found.add(code.value)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and isinstance(key.value, int)
                        and 400 <= key.value < 600
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                        and CODE.fullmatch(value.value)
                    ):
                        found.add(value.value)
    return found


def _codes_of_classes() -> set[str]:
    """The code of every PhoneauthError subclass in every importable module."""
    for module in pkgutil.walk_packages(phoneauth.__path__, "phoneauth."):
        if module.name.endswith("__main__") or ".migrations." in module.name:
            continue
        importlib.import_module(module.name)
    codes: set[str] = set()
    pending: list[type[PhoneauthError]] = [PhoneauthError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return codes


ALL_CODES = sorted(_codes_in_source() | _codes_of_classes())


def test_the_scan_finds_codes_of_each_kind() -> None:
    """The scanner itself works: class codes, codes only in the error handlers, Logto's."""
    for code in ("verification_code.expired", "entity.not_found", "unknown", "general"):
        assert code in ALL_CODES
    assert len(ALL_CODES) > 100


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_code_phoneauth_answers_has_sentences(code: str) -> None:
    assert code in MESSAGES, f"{code}: add it to web/human_messages/table.py"
    sentences = MESSAGES[code]
    assert sentences.end_user.strip()
    assert sentences.admin.strip()


RAW = re.compile(r"HTTP|\bSms\b|connector\.|[a-z]+\.[a-z_]+|`|\{|Value error|Field required")


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_end_user_sentences_name_no_code_setting_or_provider(code: str) -> None:
    text = end_user_sentence(code)
    assert not RAW.search(text), text
    assert text.endswith((".", "!")), text


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_admin_sentences_read_whole_without_details(code: str) -> None:
    text = admin_sentence(code)
    assert "{" not in text, text
    assert text[0].isupper() or text[0] in "“`", text
    assert text.endswith((".", ")")), text


def test_unknown_codes_fall_back_and_never_echo_the_raw_message() -> None:
    assert end_user_sentence("made.up") == END_USER_FALLBACK
    assert end_user_sentence("connector.acme_specific") == SMS_UNAVAILABLE
    assert admin_sentence("made.up") == ADMIN_FALLBACK
    table = end_user_table()
    assert table[""] == END_USER_FALLBACK
    assert table["connector."] == SMS_UNAVAILABLE
    assert table["connector.general"] == SMS_UNAVAILABLE
    assert "HTTP" not in table["connector.invalid_response"]


def test_sentences_for_an_email_address_or_a_username_are_for_people_too() -> None:
    """The pages' variants for what they sent (`code@email`, `code@username`) follow the same
    rules, and each stands for a code the table knows."""
    table = end_user_table()
    for (code, kind), text in END_USER_BY_KIND.items():
        assert code == "connector." or code in MESSAGES, code
        assert kind in ("email", "username")
        assert table[f"{code}@{kind}"] == text
        assert not RAW.search(text), text
        assert "phone" not in text, text
        assert "SMS" not in text, text


def test_admin_sentences_say_the_setting_and_what_depends_in_words() -> None:
    sms = admin_sentence(
        "sign_in_experiences.enabled_connector_not_found",
        {"type": "Sms", "setting": "signIn.methods: phone + verification code"},
    )
    assert sms.startswith(
        "Sign-in by phone number and verification code: this needs an SMS connector"
    )
    assert "Enabled Sms connector not found" not in sms
    email = admin_sentence(
        "sign_in_experiences.enabled_connector_not_found",
        {"type": "Email", "setting": "signUp.identifiers: email"},
    )
    assert email.startswith("Sign-up asks for an email address: this needs an Email connector")
    reset = admin_sentence(
        "sign_in_experiences.forgot_password_method_requires_connector", {"method": "email"}
    )
    assert reset.startswith("Password reset by a code sent by email needs an Email connector")
    in_use = admin_sentence(
        "connector.in_use_by_sign_in_experience",
        {"dependents": ["signUp.identifiers: phone", "mfa.factors: PhoneVerificationCode"]},
    )
    assert "Sign-up asks for a phone number; two-step verification by SMS" in in_use
    assert "signUp" not in in_use
    assert "30 seconds" in admin_sentence("request.rate_limited", {"retry_after": 30})


def _document(**changes: Any) -> SignInExperience:
    base = default_sign_in_experience(has_sms=True).model_dump(by_alias=True)
    return SignInExperience.model_validate(base | changes)


def _code(identifier: str) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "password": False,
        "verificationCode": True,
        "isPasswordPrimary": False,
    }


SETTINGS_CASES: list[tuple[dict[str, Any], set[str]]] = (
    [
        (
            {
                "signUp": {"identifiers": [i], "password": False, "verify": True},
                "signIn": {"methods": [_code(i)]},
            },
            {"sign_up", "sign_in"},
        )
        for i in ("phone", "email")
    ]
    + [
        (
            {
                "signUp": {
                    "identifiers": ["username"],
                    "password": True,
                    "verify": True,
                    "secondaryIdentifiers": [{"identifier": s, "verify": True}],
                },
                "signIn": {
                    "methods": [{**_code("username"), "password": True, "verificationCode": False}]
                },
            },
            {"sign_up"},
        )
        for s in ("phone", "email", "emailOrPhone")
    ]
    + [({"signIn": {"methods": [_code(i)]}}, {"sign_in"}) for i in ("phone", "email")]
    + [
        (
            {
                "signIn": {
                    "methods": [{**_code("phone"), "password": True, "verificationCode": False}]
                },
                "signUp": {"identifiers": ["phone"], "password": True, "verify": True},
                "mfa": {"factors": [f], "policy": "Mandatory"},
            },
            {"mfa"},
        )
        for f in ("PhoneVerificationCode", "EmailVerificationCode")
    ]
)


def test_every_setting_the_rules_and_the_delete_guard_name_has_words() -> None:
    named: set[str] = set()
    for changes, changed in SETTINGS_CASES:
        document = _document(**changes)
        named.update(document.sms_dependents())
        try:
            check_changes(document, changed, has_sms=False)
        except SignInExperienceRuleError as error:
            setting = error.details.get("setting")
            if setting:
                named.add(str(setting))
    everything = _document(
        signUp={
            "identifiers": ["phone"],
            "password": True,
            "verify": True,
            "secondaryIdentifiers": [{"identifier": "emailOrPhone", "verify": True}],
        },
        forgotPasswordMethods=["PhoneVerificationCode"],
        mfa={"factors": ["PhoneVerificationCode"], "policy": "Mandatory"},
    )
    named.update(everything.sms_dependents())
    assert len(named) >= 10, named
    missing = sorted(path for path in named if path not in SETTING_WORDS)
    assert not missing, f"add to web/human_messages/setting_words.py: {missing}"
    assert setting_in_words("newRule.somewhere") == "The sign-in setting newRule.somewhere"


LABELS = {"accountSID": "Account SID", "endpoint": "Endpoint", "templates": "SMS templates"}


@pytest.mark.parametrize(
    ("problem", "sentence"),
    [
        ({"field": "accountSID", "message": "Field required"}, "“Account SID” is required."),
        (
            {
                "field": "endpoint",
                "message": "Value error, must be an absolute http:// or https:// URL",
            },
            "“Endpoint” must be an absolute http:// or https:// URL.",
        ),
        (
            {
                "field": "templates.0.usageType",
                "message": "Input should be 'SignIn', 'Register' or 'Generic'",
            },
            "The usage type of template 1 must be one of: SignIn, Register, Generic.",
        ),
        (
            {
                "field": "templates",
                "message": "Tuple should have at least 1 item after validation, not 0",
            },
            "“SMS templates” needs at least one entry.",
        ),
        (
            {"field": "senderId", "message": "Extra inputs are not permitted"},
            "The setting “senderId” is not a setting of this provider.",
        ),
        (
            {"field": "accountSID", "message": "String should have at least 1 character"},
            "“Account SID” cannot be empty.",
        ),
        (
            {
                "field": "(config)",
                "message": "Value error, Template with UsageType (Generic) is required",
            },
            "Template with UsageType (Generic) is required.",
        ),
        (
            {"field": "accountSID", "message": "the mask is not a secret; send the secret itself"},
            "“Account SID” is a secret with no saved value to keep: type it in.",
        ),
    ],
)
def test_pydantic_field_errors_become_sentences_with_the_form_label(
    problem: dict[str, str], sentence: str
) -> None:
    assert describe(problem, LABELS) == sentence


def test_under_its_field_a_problem_says_this_field() -> None:
    assert problem_sentence("Field required") == "This field is required."
    assert problem_sentence("Some new pydantic text") == "Some new pydantic text."
