"""Argon2id at a test's cost, set before phoneauth hashes anything (imported first by conftest).

At argon2-cffi's default cost (64 MiB, 3 passes, 4 lanes) one hash and one verify take about
0.3 s of CPU on the CI machine, and the suite hashes and verifies thousands of passwords: that
was minutes of a CPU-bound CI. Tests still hash and verify real Argon2id (the same library, the
same calls, `$argon2id$` hashes); only the cost parameters are smaller. The production cost is
checked in `tests/domain/test_password_cost.py`, in a process of its own.
"""

from __future__ import annotations

from argon2 import PasswordHasher

from phoneauth.domain import passwords

passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
