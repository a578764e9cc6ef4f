"""Sign-in experience documents in SQL, one per tenant."""

from __future__ import annotations

from datetime import UTC, datetime

from phoneauth.domain.sign_in_experience import SignInExperience
from phoneauth.storage.database import Database
from phoneauth.storage.models import SignInExperienceRow


class SqlSignInExperienceStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def get(self, tenant_id: str) -> SignInExperience | None:
        async with self.db.sessions() as session:
            row = await session.get(SignInExperienceRow, tenant_id)
            return None if row is None else SignInExperience.model_validate(row.document)

    async def save(self, tenant_id: str, document: SignInExperience) -> SignInExperience:
        data = document.model_dump(mode="json", by_alias=True)
        async with self.db.sessions.begin() as session:
            row = await session.get(SignInExperienceRow, tenant_id)
            if row is None:
                session.add(
                    SignInExperienceRow(
                        tenant_id=tenant_id, document=data, updated_at=datetime.now(UTC)
                    )
                )
            else:
                row.document = data
                row.updated_at = datetime.now(UTC)
        return document
