"""The code flow with PKCE, as a workspace runs it with pyoidc (PRODUCT §1.11)."""

from __future__ import annotations

from typing import Any

from tests.web.oidc.conftest import PASSWORD, RelyingParty, off_loop


async def test_a_workspace_signs_a_person_in_with_email_and_password(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    account_id, _ = await rp.site.world.account(
        name="Ivan", email="ivan@example.com", password=PASSWORD
    )
    tokens, state = await rp.sign_in("Ivan@Example.com")
    id_token = tokens["id_token"]  # verified by pyoidc against the JWKS: signature, iss, aud
    assert id_token["sub"] == str(account_id)
    assert id_token["iss"] == rp.site.url
    assert id_token["email"] == "ivan@example.com" and id_token["email_verified"] is True
    info = await off_loop(rp.oic.do_user_info_request, state=state)
    assert info["sub"] == str(account_id) and info["name"] == "Ivan"
    assert info["email"] == "ivan@example.com"
