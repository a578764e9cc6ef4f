"""PostgreSQL: the grouped reads and saves look each key up on its index, whatever the
statistics say.

The reads' first form, a join of the table with the keys' arrays, got a plan that hashed the whole
table while the table had never been analysed, and PostgreSQL kept that plan (cached as the
statement's generic plan) as the table grew: Management send-code fell to a tenth until the next
ANALYZE. Here: a freshly migrated schema (never analysed: autovacuum analyses a table only after
its first 50 changed rows), the generic plan forced. A lookup of one key gets the index there;
grouping must not lose it. (A table analysed while empty gives every lookup, single or grouped,
a sequential scan until autovacuum analyses it again: PostgreSQL's own behaviour, unchanged.)"""

from __future__ import annotations

from typing import Any

from phoneauth.storage.database import Database
from phoneauth.storage.prepared import Prepared
from phoneauth.storage.repositories.interactions import _GET, _GET_MANY, _UPDATE, _UPDATE_MANY
from phoneauth.storage.repositories.verification_codes import _FIND_LIVE, _FIND_LIVE_MANY


async def generic_plan(
    database: Database, statement: Prepared, parameters: dict[str, Any], call: str
) -> str:
    sql = statement.form(database.engine.dialect, parameters).sql
    raw = await database.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        await driver.execute(f"SET plan_cache_mode = force_generic_plan; PREPARE lookup AS {sql}")
        rows = await driver.fetch(f"EXPLAIN EXECUTE lookup({call})")
        await driver.execute("DEALLOCATE lookup; RESET plan_cache_mode")
    finally:
        raw.close()
    return "\n".join(row[0] for row in rows)


async def test_waiting_code_lookups_use_the_index_of_waiting_codes(database: Database) -> None:
    one = await generic_plan(
        database,
        _FIND_LIVE,
        {"b_tenant": "", "b_phone": "", "b_usage": "", "b_scope": ""},
        "'default', '+4915112345678', 'SignIn', '', 1",
    )
    keys = ("b_tenant_ids", "b_phones", "b_usage_types", "b_scopes")
    grouped = await generic_plan(
        database,
        _FIND_LIVE_MANY,
        {key: [] for key in keys},
        "'{default,default}', '{+4915112345678,+4915112345679}', '{SignIn,SignIn}', "
        '\'{"",""}\', 1',
    )
    assert "Index Scan using uq_verification_codes_live" in one, one
    assert "Index Scan using uq_verification_codes_live" in grouped, grouped
    assert "Seq Scan on verification_codes" not in grouped, grouped


async def test_interaction_reads_use_the_primary_key(database: Database) -> None:
    one = await generic_plan(database, _GET, {"b_tenant": "", "b_id": ""}, "'default', 'a'")
    grouped = await generic_plan(
        database, _GET_MANY, {"b_tenants": [], "b_ids": []}, "'{default,default}', '{a,b}', 1"
    )
    assert "Index Scan using pk_interactions" in one, one
    assert "Index Scan using pk_interactions" in grouped, grouped
    assert "Seq Scan on interactions" not in grouped, grouped


async def test_interaction_saves_use_the_primary_key(database: Database) -> None:
    one = await generic_plan(
        database,
        _UPDATE,
        {"b_tenant": "", "b_id": "", "b_version": 1, "data": {}},
        "'{}', 1, 'default', 'a', 1",
    )
    grouped = await generic_plan(
        database,
        _UPDATE_MANY,
        {"b_tenants": [], "b_ids": [], "b_versions": [], "b_documents": []},
        "1, '{default,default}', '{a,b}', '{1,1}', '{\"{}\",\"{}\"}', 1",
    )
    assert "Index Scan using pk_interactions" in one, one
    assert "Index Scan using pk_interactions" in grouped, grouped
    assert "Seq Scan on interactions" not in grouped, grouped
