from __future__ import annotations

import pytest

from phoneauth.connectors import ContentTemplate, SmsMessage, TemplateNotFoundError, UsageType
from phoneauth.connectors.templates import default_content_templates, render, select_template


def t(usage: str, content: str, locale: str | None = None) -> ContentTemplate:
    return ContentTemplate(usageType=usage, content=content, locale=locale)  # type: ignore[arg-type]


def msg(usage: UsageType, locale: str | None = None) -> SmsMessage:
    payload = {"code": "1"} if locale is None else {"code": "1", "locale": locale}
    return SmsMessage(to="+4915112345678", usage_type=usage, payload=payload)


TEMPLATES = [
    t("Generic", "generic"),
    t("SignIn", "sign-in"),
    t("SignIn", "connexion", "fr"),
    t("Generic", "générique", "fr"),
    t("Generic", "genérico", "pt-BR"),
]


@pytest.mark.parametrize(
    ("usage", "locale", "expected"),
    [
        (UsageType.SIGN_IN, None, "sign-in"),
        (UsageType.REGISTER, None, "generic"),
        (UsageType.SIGN_IN, "fr", "connexion"),
        (UsageType.SIGN_IN, "fr-CA", "connexion"),
        (UsageType.SIGN_IN, "FR_ca", "connexion"),
        (UsageType.REGISTER, "fr", "générique"),
        (UsageType.SIGN_IN, "pt-BR", "genérico"),
        (UsageType.SIGN_IN, "pt", "sign-in"),
        (UsageType.SIGN_IN, "de", "sign-in"),
        (UsageType.BIND_MFA, "de", "generic"),
    ],
)
def test_template_choice_prefers_locale_then_usage_then_generic(
    usage: UsageType, locale: str | None, expected: str
) -> None:
    assert select_template(TEMPLATES, msg(usage, locale)).content == expected


def test_no_matching_template_and_no_generic_is_template_not_found() -> None:
    with pytest.raises(TemplateNotFoundError) as info:
        select_template([t("SignIn", "x")], msg(UsageType.REGISTER))
    assert info.value.code == "connector.template_not_found"
    assert info.value.status == 400
    assert info.value.details == {"usage_type": "Register"}


@pytest.mark.parametrize(
    ("content", "payload", "expected"),
    [
        ("code is {{code}}", {"code": "123456"}, "code is 123456"),
        ("code is {{ code }}!", {"code": "123456"}, "code is 123456!"),
        ("{{application.name}}", {"application": {}}, ""),
        ("{{application.name}}", {"application": {"name": "Acme"}}, "Acme"),
        ("{{code}}", {}, "{{code}}"),
        ("{{minutes}} min", {"minutes": 10}, "10 min"),
        ("{{gone}}", {"gone": None}, ""),
        ("{{a}}{{b}}", {"a": 1, "b": True}, "1true"),
    ],
)
def test_render_follows_logtos_handlebars(
    content: str, payload: dict[str, object], expected: str
) -> None:
    assert render(content, payload) == expected


def test_the_default_invitation_text_carries_the_acceptance_link() -> None:
    """phoneauth's invitations pass `link`; the default text puts it after the code."""
    [invitation] = [
        t for t in default_content_templates() if t["usageType"] == "OrganizationInvitation"
    ]
    text = render(invitation["content"], {"code": "123456", "link": "https://id.example/i/x"})
    assert text == (
        "Your organization invitation code is 123456. "
        "Accept the invitation at https://id.example/i/x"
    )
