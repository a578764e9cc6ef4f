"""The set-up form's reading of every Logto form item kind, and where server errors go."""

from __future__ import annotations

from starlette.datastructures import FormData

from phoneauth.web.console.connector_forms import FormField, attach_errors, config_from_form


def field(key: str, kind: str, **item: object) -> FormField:
    return FormField(item={"key": key, "label": key, "type": kind, **item})


def test_each_kind_is_read_the_logto_way() -> None:
    fields = [
        field("name", "Text"),
        field("token", "Text", isConfidential=True),
        field("kept", "Text", isConfidential=True),
        field("count", "Number"),
        field("ratio", "Number"),
        field("notes", "MultilineText"),
        field("on", "Switch"),
        field("off", "Switch"),
        field("region", "Select"),
        field("types", "MultiSelect"),
        field("none", "MultiSelect"),
        field("extra", "Json"),
        field("empty", "Text"),
    ]
    fields[2].saved_secret = True
    form = FormData(
        [
            ("cfg.name", "  acme  "),
            ("cfg.token", "s3cret"),
            ("cfg.kept", ""),
            ("cfg.count", "12"),
            ("cfg.ratio", "0.5"),
            ("cfg.notes", "line 1\nline 2"),
            ("cfg.on", "on"),
            ("cfg.region", "eu"),
            ("cfg.types", "SignIn"),
            ("cfg.types", "Generic"),
            ("cfg.extra", '{"a": [1, 2]}'),
            ("cfg.empty", "   "),
        ]
    )
    config, problems = config_from_form(fields, form)
    assert problems == {}
    assert config == {
        "name": "acme",
        "token": "s3cret",
        "kept": "**********",  # the API's mask: keep the saved secret
        "count": 12,
        "ratio": 0.5,
        "notes": "line 1\nline 2",
        "on": True,
        "off": False,
        "region": "eu",
        "types": ["SignIn", "Generic"],
        "extra": {"a": [1, 2]},
    }
    assert all(f.text == "" for f in fields if f.secret)


def test_unreadable_values_are_named_and_kept_for_correction() -> None:
    fields = [field("count", "Number"), field("templates", "Json")]
    config, problems = config_from_form(
        fields, FormData([("cfg.count", "twelve"), ("cfg.templates", "[{")])
    )
    assert config == {}
    assert problems["count"] == "Enter a number."
    assert problems["templates"].startswith("This is not valid JSON")
    assert fields[1].text == "[{"


def test_server_errors_go_under_their_fields() -> None:
    fields = [field("templates", "Json"), field("accountSID", "Text", label="Account SID")]
    unplaced = attach_errors(
        fields,
        [
            {"field": "templates.0.usageType", "message": "Input should be 'SignIn'"},
            {"field": "accountSID", "message": "Field required"},
            {"field": "accountSID", "message": "Value error, must not contain spaces"},
            {"field": "(config)", "message": "Template with UsageType (Generic) is required"},
            {"field": "sender", "message": "Extra inputs are not permitted"},
        ],
    )
    # pydantic's texts as sentences; the field's label, never its dotted path.
    assert fields[0].errors == ["The usage type of template 1 must be one of: SignIn."]
    assert fields[1].errors == ["This field is required.", "This field must not contain spaces."]
    assert unplaced == [
        "Template with UsageType (Generic) is required.",
        "The setting “sender” is not a setting of this provider.",
    ]
