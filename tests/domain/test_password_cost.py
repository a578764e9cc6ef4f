"""Production hashes passwords at argon2-cffi's default cost; the tests' cheaper cost
(`tests/cheap_hashing.py`) applies to the test processes only."""

from __future__ import annotations

import subprocess
import sys

from phoneauth.domain import passwords


def test_a_fresh_process_hashes_at_the_default_cost() -> None:
    program = (
        "from phoneauth.domain.passwords import hash_any_password; print(hash_any_password('x'))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and program
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), done.stdout


def test_the_tests_hash_real_argon2id_at_a_lower_cost() -> None:
    hashed = passwords.hash_any_password("x")
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert passwords.verify_password(hashed, "x")
    assert not passwords.verify_password(hashed, "y")
