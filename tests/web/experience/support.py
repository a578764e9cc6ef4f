"""Helpers for Experience API tests: an end user's client, the outbox, sign-in experience docs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
from jwt.algorithms import ECAlgorithm

from phoneauth.domain.sign_in_experience import SignInExperience
from phoneauth.wiring import Services

PHONE = "+4915112345678"
OTHER_PHONE = "+4915187654321"
THIRD_PHONE = "+4915199999999"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "another horse battery"

PHONE_CODE_SIGN_IN = {
    "identifier": "phone",
    "password": False,
    "verificationCode": True,
    "isPasswordPrimary": False,
}
PHONE_PASSWORD_SIGN_IN = {
    "identifier": "phone",
    "password": True,
    "verificationCode": False,
    "isPasswordPrimary": True,
}


async def use_experience(
    services: Services, document: dict[str, Any], tenant: str = "default"
) -> None:
    """Store a sign-in experience as is (the PATCH rules are another module's business)."""
    await services.sign_in_experience.store.save(tenant, SignInExperience.model_validate(document))


def experience(
    *,
    identifiers: list[str] | None = None,
    password: bool = False,
    methods: list[dict[str, Any]] | None = None,
    mode: str = "SignInAndRegister",
    mfa: dict[str, Any] | None = None,
    forgot: list[str] | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "signUp": {
            "identifiers": ["phone"] if identifiers is None else identifiers,
            "password": password,
            "verify": True,
        },
        "signIn": {"methods": [PHONE_CODE_SIGN_IN] if methods is None else methods},
        "signInMode": mode,
        "mfa": mfa or {"factors": [], "policy": "UserControlled"},
    }
    if forgot is not None:
        document["forgotPasswordMethods"] = forgot
    return document


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


class EndUser:
    """An end user's browser: an anonymous client with a cookie jar, driving one interaction.

    `api` (the admin client) only reads the development outbox, as a phone would.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        api: httpx.AsyncClient,
        prefix: str = "",
        delivered: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.api = api
        self.prefix = prefix
        # Forgot-password codes (and sign-in codes while registration is closed) are sent after
        # the answer; `delivered` waits for such sends, as a phone waits for the SMS.
        self.delivered = delivered

    def url(self, path: str) -> str:
        return f"{self.prefix}/api/experience{path}"

    async def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.put(self.url(path), json=body)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(self.url(path), json=body if body is not None else {})

    async def start(self, event: str = "SignIn", **extra: Any) -> httpx.Response:
        response = await self.put("", {"interactionEvent": event, **extra})
        return response

    async def messages(self, phone: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await self.api.get(f"{self.prefix}/api/outbox", params={"phone": phone})
        ).json()
        return found

    async def code(self, phone: str) -> str:
        messages = await self.messages(phone)
        assert messages, f"no SMS to {phone}"
        return str(messages[0]["code"])

    async def send_code(self, phone: str, event: str = "SignIn") -> httpx.Response:
        sent = await self.post(
            "/verification/verification-code",
            {"identifier": {"type": "phone", "value": phone}, "interactionEvent": event},
        )
        if self.delivered is not None:
            await self.delivered()
        return sent

    async def verify(self, phone: str, verification_id: str, code: str) -> httpx.Response:
        return await self.post(
            "/verification/verification-code/verify",
            {
                "identifier": {"type": "phone", "value": phone},
                "verificationId": verification_id,
                "code": code,
            },
        )

    async def prove_phone(self, phone: str, event: str = "SignIn") -> str:
        """Send a code, read it from the outbox, verify it; the verified record's id."""
        sent = await self.send_code(phone, event)
        assert sent.status_code == 200, sent.text
        verification_id = str(sent.json()["verificationId"])
        verified = await self.verify(phone, verification_id, await self.code(phone))
        assert verified.status_code == 200, verified.text
        assert verified.json() == {"verificationId": verification_id}
        return verification_id

    async def identify(self, verification_id: str | None = None) -> httpx.Response:
        body = {} if verification_id is None else {"verificationId": verification_id}
        return await self.post("/identification", body)

    async def submit(self) -> httpx.Response:
        return await self.post("/submit")

    async def register(self, phone: str) -> dict[str, Any]:
        """The whole phone + code registration; the submit answer."""
        assert (await self.start("Register")).status_code == 204
        created = await self.identify(await self.prove_phone(phone, "Register"))
        assert created.status_code == 201, created.text
        submitted = await self.submit()
        assert submitted.status_code == 200, submitted.text
        body: dict[str, Any] = submitted.json()
        return body


async def verified_claims(
    client: httpx.AsyncClient, token: str, prefix: str = ""
) -> dict[str, Any]:
    """The access token's claims, checked against the public keys at /oidc/jwks."""
    keys = (await client.get(f"{prefix}/oidc/jwks")).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [key for key in keys if key["kid"] == kid]
    claims: dict[str, Any] = jwt.decode(
        token, ECAlgorithm.from_jwk(jwk), algorithms=["ES256"], options={"verify_aud": False}
    )
    return claims
