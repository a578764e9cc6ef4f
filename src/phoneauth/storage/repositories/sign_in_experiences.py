"""Sign-in experience documents in SQL, one per tenant."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from phoneauth.domain.sign_in_experience import SignInExperience
from phoneauth.storage.database import Database
from phoneauth.storage.models import SignInExperienceRow
from phoneauth.storage.versioned_cache import VersionedCache


class SqlSignInExperienceStore:
    def __init__(
        self, database: Database, cache: VersionedCache[str, SignInExperience | bool] | None = None
    ) -> None:
        self.db = database
        self.cache = cache

    async def get(self, tenant_id: str) -> SignInExperience | None:
        # Every Experience API request reads it; the cache empties on any change (triggers). A
        # tenant that never saved one (the default applies) is remembered too, as False: the
        # tenant exists (it was looked up first), so such entries cannot fill the cache.
        if self.cache is None:
            return await self._get(tenant_id)
        found = await self.cache.get(tenant_id, lambda: self._found(tenant_id))
        return found if isinstance(found, SignInExperience) else None

    async def _found(self, tenant_id: str) -> SignInExperience | bool:
        document = await self._get(tenant_id)
        return False if document is None else document

    async def _get(self, tenant_id: str) -> SignInExperience | None:
        def unit(session: Session) -> SignInExperience | None:
            row = session.get(SignInExperienceRow, tenant_id)
            return None if row is None else SignInExperience.model_validate(row.document)

        return await self.db.read(unit)

    async def save(self, tenant_id: str, document: SignInExperience) -> SignInExperience:
        data = document.model_dump(mode="json", by_alias=True)

        def unit(session: Session) -> None:
            row = session.get(SignInExperienceRow, tenant_id)
            if row is None:
                session.add(
                    SignInExperienceRow(
                        tenant_id=tenant_id, document=data, updated_at=datetime.now(UTC)
                    )
                )
            else:
                row.document = data
                row.updated_at = datetime.now(UTC)

        await self.db.write(unit)
        return document
