"""Encrypted ID tokens and userinfo, decrypted by Authlib: a citizen logs in to a client that
registered an encryption key (RSA-OAEP-256, or ECDH-ES+A256KW on P-256), and demands that
personal_id reach it only encrypted. The ID token and the userinfo response are JWEs (A256GCM)
whose plaintext is a JWT signed by xacthuc; both layers are checked with Authlib. Run through
tests/interop/run, which generates the keys and registers `py-jwe-rsa` and `py-jwe-ec`."""

import json
import os
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebEncryption, JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from test_authlib import ISSUER, RP, citizen, citizen_login, jwks, meta  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not ISSUER, reason="run through tests/interop/run")

CASES = [("py-jwe-rsa", "RSA-OAEP-256", "RSA"), ("py-jwe-ec", "ECDH-ES+A256KW", "EC")]


def decrypt(token, private_key, alg):
    """Authlib's JWE decryption; returns the nested JWT after checking the protected header."""
    assert token.count(".") == 4, "a compact JWE has five parts"
    out = JsonWebEncryption().deserialize_compact(token, private_key)
    header = out["header"]
    assert header["alg"] == alg and header["enc"] == "A256GCM", header
    assert header["cty"] == "JWT", "signed, then encrypted: the plaintext is a JWT"
    inner = out["payload"].decode()
    assert inner.count(".") == 2, "the plaintext is a compact JWS"
    return inner


def test_discovery_advertises_encryption(meta):  # noqa: F811
    for kind in ("id_token", "userinfo"):
        assert {"RSA-OAEP-256", "ECDH-ES+A256KW"} <= set(meta[f"{kind}_encryption_alg_values_supported"])
        assert "A256GCM" in meta[f"{kind}_encryption_enc_values_supported"]
    assert "PS256" in meta["id_token_signing_alg_values_supported"]
    assert set(meta["userinfo_signing_alg_values_supported"]) == set(meta["id_token_signing_alg_values_supported"])


@pytest.mark.parametrize("client_id,alg,kty", CASES)
def test_encrypted_id_token_and_userinfo(meta, jwks, citizen, client_id, alg, kty):  # noqa: F811
    tag = client_id.rsplit("-", 1)[1].upper()
    with open(os.environ[f"INTEROP_JWE_{tag}_KEY"]) as f:
        private_key = JsonWebKey.import_key(json.load(f))
    assert private_key.kty == kty
    oauth = OAuth2Session(
        client_id=client_id,
        client_secret=os.environ[f"INTEROP_JWE_{tag}_SECRET"],
        scope="openid profile personal_id",
        redirect_uri=f"{RP}/cb",
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",
    )
    verifier, nonce = generate_token(64), generate_token(24)
    uri, state = oauth.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    callback = citizen_login(requests.Session(), uri)
    assert parse_qs(urlparse(callback).query).get("iss") == [ISSUER]
    token = oauth.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state)

    # ID token: decrypt with our private key, then verify xacthuc's signature against its JWKS.
    inner = decrypt(token["id_token"], private_key, alg)
    claims = jwt.decode(
        inner,
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": ISSUER}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=30)  # iss, aud, exp, iat, nonce, at_hash, azp
    assert re.fullmatch(r"\d{12}", claims.get("personal_id", "")), claims

    # Userinfo: application/jwt, encrypted the same way, signed with iss and aud.
    r = oauth.get(meta["userinfo_endpoint"], timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/jwt"), r.headers
    info = jwt.decode(
        decrypt(r.text, private_key, alg),
        jwks,
        claims_options={"iss": {"essential": True, "value": ISSUER}, "aud": {"essential": True, "value": client_id}},
    )
    info.validate(leeway=30)
    assert info["sub"] == claims["sub"]
    assert info["personal_id"] == claims["personal_id"]

    # The encrypted ID token is not usable by anyone else: another key of the same kind fails.
    stranger = JsonWebKey.generate_key(kty, 2048 if kty == "RSA" else "P-256", is_private=True)
    with pytest.raises(Exception):
        JsonWebEncryption().deserialize_compact(token["id_token"], stranger)
