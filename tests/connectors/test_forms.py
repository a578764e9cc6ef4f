from __future__ import annotations

from enum import Enum, IntEnum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter

from phoneauth.connectors import ConnectorFactory, load_registry, secret_fields
from phoneauth.connectors.forms import FORM_ITEM_TYPES, form_items

FACTORIES = list(load_registry())


class _Base(BaseModel):
    """Logto's base fields of `ConnectorConfigFormItem` (connector-kit `config-form.ts`)."""

    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    placeholder: str | None = None
    required: bool | None = None
    defaultValue: Any = None
    description: str | None = None
    isConfidential: bool | None = None


class _SelectItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any
    title: str


class _MultiSelectItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any


class _Select(_Base):
    type: Literal["Select"]
    selectItems: list[_SelectItem]


class _MultiSelect(_Base):
    type: Literal["MultiSelect"]
    selectItems: list[_MultiSelectItem]


class _Plain(_Base):
    type: Literal["Text", "Number", "MultilineText", "Switch", "Json"]


LOGTO_FORM_ITEM = TypeAdapter(
    Annotated[_Select | _MultiSelect | _Plain, Field(discriminator="type")]
)


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.id)
def test_every_factory_gets_logto_form_items_keyed_by_alias(
    factory: ConnectorFactory[Any],
) -> None:
    model = factory.config_model
    items = form_items(model, factory.sample_config)
    for item in items:
        LOGTO_FORM_ITEM.validate_python(item)
    schema = model.model_json_schema(by_alias=True)
    assert [item["key"] for item in items] == list(schema["properties"])
    by_key = {item["key"]: item for item in items}
    # Secrets, and only secrets, are confidential Text inputs; a nested secret (SMTP `auth.pass`)
    # sits inside a Json item and is masked there by the API.
    confidential = {key for key, item in by_key.items() if item.get("isConfidential")}
    assert confidential == {key for key in secret_fields(model) if "." not in key}
    assert all(by_key[key]["type"] == "Text" for key in confidential)
    if "templates" in by_key:
        assert by_key["templates"]["type"] == "Json"
    # Required as the model says, except switches (Logto's console never requires a Switch).
    required = {key for key, item in by_key.items() if item["required"]}
    switches = {key for key, item in by_key.items() if item["type"] == "Switch"}
    assert required == set(schema.get("required", [])) - switches
    for item in items:
        assert item["type"] in FORM_ITEM_TYPES
        assert item["label"]


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.id)
def test_a_form_filled_with_its_defaults_validates(factory: ConnectorFactory[Any]) -> None:
    items = form_items(factory.config_model, factory.sample_config)
    filled = dict(factory.sample_config)
    filled |= {item["key"]: item["defaultValue"] for item in items if "defaultValue" in item}
    factory.parse_config(filled)
    for item in items:
        for choice in item.get("selectItems", []):
            factory.parse_config(filled | {item["key"]: choice["value"]})


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Level(IntEnum):
    LOW_VALUE = 1


class Nested(BaseModel):
    a: int


class Everything(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(title="Name", description="Who")
    token: SecretStr | None = Field(default=None, alias="apiToken")
    count: int = 3
    ratio: float | None = None
    enabled: bool = Field(default=True)
    colour: Colour = Colour.BLUE
    level: Level = Level.LOW_VALUE
    mode: Literal["a", "b"] = "a"
    modes: list[Literal["x", "y"]] = Field(default_factory=list)
    colours: tuple[Colour, ...] = ()
    nested: Nested | None = None
    pair: str | Nested = "plain"
    body: str = Field(default="", json_schema_extra={"formItemType": "MultilineText"})


def test_each_python_type_maps_to_its_logto_item_type() -> None:
    items = {item["key"]: item for item in form_items(Everything)}
    assert {key: item["type"] for key, item in items.items()} == {
        "name": "Text",
        "apiToken": "Text",
        "count": "Number",
        "ratio": "Number",
        "enabled": "Switch",
        "colour": "Select",
        "level": "Select",
        "mode": "Select",
        "modes": "MultiSelect",
        "colours": "MultiSelect",
        "nested": "Json",
        "pair": "Json",
        "body": "MultilineText",
    }
    assert items["name"] == {
        "key": "name",
        "label": "Name",
        "type": "Text",
        "required": True,
        "isConfidential": False,
        "description": "Who",
    }
    assert items["apiToken"]["isConfidential"] is True
    assert items["apiToken"]["label"] == "apiToken"
    assert "defaultValue" not in items["apiToken"]
    assert items["count"]["defaultValue"] == 3
    assert items["enabled"] == {
        "key": "enabled",
        "label": "enabled",
        "type": "Switch",
        "required": False,
        "defaultValue": True,
    }
    assert items["colour"]["selectItems"] == [
        {"value": "red", "title": "red"},
        {"value": "blue", "title": "blue"},
    ]
    assert items["colour"]["defaultValue"] == "blue"
    assert items["level"]["selectItems"] == [{"value": 1, "title": "Low value"}]
    assert items["mode"]["selectItems"] == [
        {"value": "a", "title": "a"},
        {"value": "b", "title": "b"},
    ]
    assert items["modes"]["selectItems"] == [{"value": "x"}, {"value": "y"}]
    assert items["colours"]["selectItems"] == [{"value": "red"}, {"value": "blue"}]


def test_a_sample_fills_placeholders_and_json_defaults_but_never_overrides_defaults() -> None:
    sample = {"name": "Ada", "apiToken": "<token>", "count": 9, "nested": {"a": 1}}
    items = {item["key"]: item for item in form_items(Everything, sample)}
    assert items["name"]["placeholder"] == "Ada"
    assert items["apiToken"]["placeholder"] == "<token>"
    assert items["count"]["defaultValue"] == 3
    assert "placeholder" not in items["count"]
    assert items["nested"]["defaultValue"] == {"a": 1}


def test_an_unknown_forced_item_type_is_refused() -> None:
    class Odd(BaseModel):
        x: str = Field(json_schema_extra={"formItemType": "Slider"})

    with pytest.raises(ValueError, match="formItemType"):
        form_items(Odd)
