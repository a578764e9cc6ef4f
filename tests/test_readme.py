"""The README documents every built-in connector and each of its config keys."""

from __future__ import annotations

import importlib
from pathlib import Path

from phoneauth.connectors.registry import BUILTIN_MODULES

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_builtin_connector_has_a_section_listing_its_keys() -> None:
    for module_name in BUILTIN_MODULES:
        factory = importlib.import_module(module_name).FACTORY
        heading = f"### {factory.name} (`{factory.id}`)"
        assert heading in README, heading
        section = README.split(heading, 1)[1].split("\n### ", 1)[0]
        for name, info in factory.config_model.model_fields.items():
            assert f"| `{info.alias or name}` |" in section, (factory.id, info.alias or name)


def test_the_two_commands_are_documented() -> None:
    assert "make run" in README
    assert "make test" in README
