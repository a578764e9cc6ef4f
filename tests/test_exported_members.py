from __future__ import annotations

import phoneauth
import phoneauth.connectors


def test_public_api_is_sorted_and_importable() -> None:
    for module in (phoneauth, phoneauth.connectors):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), name
