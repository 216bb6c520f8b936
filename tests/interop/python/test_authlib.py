"""Authlib (Python) against xacthuc over real HTTP: discovery, code + PKCE, ID token validation
against the JWKS, userinfo, refresh rotation, introspection, revocation and RP-initiated logout.
Run through tests/interop/run, which starts xacthuc and registers the client `py-rp`
(client_secret_post)."""

import http.server
import os
import re
import threading
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.rfc7636 import create_s256_code_challenge

try:  # Authlib >= 1.6 keeps authlib.jose for compatibility but warns
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*authlib.jose.*")
except Exception:  # pragma: no cover
    pass
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

ISSUER = os.environ.get("INTEROP_ISSUER", "")
VNEID = os.environ.get("INTEROP_VNEID", "")
RP = os.environ.get("INTEROP_PY_RP_BASE", "")
SECRET = os.environ.get("INTEROP_PY_SECRET", "")
CITIZEN = (os.environ.get("INTEROP_CITIZEN_ID", ""), os.environ.get("INTEROP_CITIZEN_PASSCODE", ""))
CLIENT_ID = "py-rp"
SCOPE = "openid profile address personal_id offline_access"

pytestmark = pytest.mark.skipif(not ISSUER, reason="run through tests/interop/run")


# ----------------------------------------------------------------- the test relying party
LANDED = []


class _RP(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        LANDED.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.end_headers()
        self.wfile.write(b"landed")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module", autouse=True)
def rp_server():
    port = urlparse(RP).port
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _RP)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()


@pytest.fixture(scope="module")
def meta():
    r = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=10)
    r.raise_for_status()
    return r.json()


@pytest.fixture(scope="module")
def jwks(meta):
    return JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())


def citizen_login_available():
    r = requests.post(f"{ISSUER}/login/vneid", allow_redirects=False, timeout=10)
    return r.status_code not in (404, 405)


@pytest.fixture()
def citizen():
    if not citizen_login_available():
        if os.environ.get("CI") == "true":
            pytest.fail("citizen login (POST /login/vneid) is not available in this build")
        pytest.skip("citizen login is not in this build yet")


# ----------------------------------------------------------------- a browser without a browser
def _hop(browser, method, url, data=None):
    r = browser.request(method, url, data=data, allow_redirects=False, timeout=15)
    loc = r.headers.get("location")
    return r, (urljoin(url, loc) if loc else None)


def citizen_login(browser, authorization_url):
    """Drives authorize -> login -> e-ID form -> callback -> consent; returns the client's redirect."""
    r, url = _hop(browser, "GET", authorization_url)
    assert url and "/login?" in url, f"authorize: HTTP {r.status_code} {r.text[:300]}"
    tx = parse_qs(urlparse(url).query)["tx"][0]
    r, url = _hop(browser, "POST", f"{ISSUER}/login/vneid", {"tx": tx})
    assert url, f"POST /login/vneid: HTTP {r.status_code} {r.text[:300]}"
    r, _ = _hop(browser, "GET", url)
    m = re.search(r'name="txn" value="([^"]+)"', r.text)
    assert m, f"e-ID login page: HTTP {r.status_code} {r.text[:300]}"
    r, url = _hop(
        browser, "POST", f"{VNEID}/oauth2/login", {"txn": m.group(1), "login": CITIZEN[0], "passcode": CITIZEN[1]}
    )
    assert url, f"e-ID login: HTTP {r.status_code} {r.text[:300]}"
    for _ in range(6):
        if not url.startswith(ISSUER):
            return url
        u = urlparse(url)
        if u.path == "/consent":
            page, _ = _hop(browser, "GET", url)
            assert 'id="consent-allow"' in page.text, page.text[:300]
            r, url = _hop(
                browser, "POST", f"{ISSUER}/consent", {"tx": parse_qs(u.query)["tx"][0], "decision": "allow"}
            )
        else:
            r, url = _hop(browser, "GET", url)
        assert url, f"stuck at {u.path}: HTTP {r.status_code} {r.text[:300]}"
    raise AssertionError(f"citizen login never reached the client: {url}")


def new_session(**kw):
    return OAuth2Session(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        scope=SCOPE,
        redirect_uri=f"{RP}/cb",
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",
        revocation_endpoint_auth_method="client_secret_post",
        **kw,
    )


def code_flow(meta, jwks, browser=None):
    browser = browser or requests.Session()
    oauth = new_session()
    verifier = generate_token(64)
    nonce = generate_token(24)
    uri, state = oauth.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    q = parse_qs(urlparse(uri).query)
    assert q["code_challenge_method"] == ["S256"]
    assert q["code_challenge"] == [create_s256_code_challenge(verifier)]
    callback = citizen_login(browser, uri)
    cq = parse_qs(urlparse(callback).query)
    assert cq.get("iss") == [ISSUER], "RFC 9207 iss on the authorization response"
    token = oauth.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state)
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": ISSUER}},
        claims_params={"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
    )
    claims.validate(leeway=30)  # iss, aud, exp, iat, nonce, at_hash, azp
    return oauth, token, claims, browser


# ----------------------------------------------------------------- tests
def test_discovery(meta):
    assert meta["issuer"] == ISSUER
    assert "S256" in meta["code_challenge_methods_supported"]
    assert "client_secret_post" in meta["token_endpoint_auth_methods_supported"]
    for k in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint",
              "introspection_endpoint", "revocation_endpoint"):
        assert meta[k].startswith(ISSUER), k


def test_code_pkce_userinfo_refresh_introspect_revoke(meta, jwks, citizen):
    oauth, token, claims, _ = code_flow(meta, jwks)
    assert claims["aud"] == CLIENT_ID
    assert re.fullmatch(r"urn:xacthuc:acr:eid[12]", claims["acr"])
    assert "refresh_token" in token

    # Access token: an RFC 9068 JWT, validated offline against the same JWKS.
    header = jwt.decode(token["access_token"], jwks).header
    assert header["typ"].lower() == "at+jwt"
    at = jwt.decode(
        token["access_token"],
        jwks,
        claims_options={"iss": {"essential": True, "value": ISSUER}, "aud": {"essential": True, "value": CLIENT_ID}},
    )
    at.validate(leeway=30)
    assert at["client_id"] == CLIENT_ID
    assert at["sub"] == claims["sub"]

    info = oauth.get(meta["userinfo_endpoint"], timeout=10)
    assert info.status_code == 200, info.text
    info = info.json()
    assert info["sub"] == claims["sub"]
    assert info.get("name")
    assert re.fullmatch(r"\d{12}", info.get("personal_id", "")), info

    r = oauth.introspect_token(meta["introspection_endpoint"], token=token["access_token"])
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True

    old_refresh = token["refresh_token"]
    new = oauth.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    assert new["access_token"] and new["refresh_token"] != old_refresh
    with pytest.raises(OAuthError) as e:
        new_session().refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
    assert e.value.error == "invalid_grant"

    # Second login to revoke explicitly (reuse above revoked the first family).
    oauth2, token2, _, _ = code_flow(meta, jwks)
    r = oauth2.revoke_token(meta["revocation_endpoint"], token=token2["refresh_token"], token_type_hint="refresh_token")
    assert r.status_code == 200, r.text
    r = oauth2.introspect_token(meta["introspection_endpoint"], token=token2["access_token"])
    assert r.json()["active"] is False
    assert oauth2.get(meta["userinfo_endpoint"], timeout=10).status_code == 401


def test_rp_initiated_logout(meta, jwks, citizen):
    oauth, token, claims, browser = code_flow(meta, jwks)
    state = generate_token(16)
    url = meta["end_session_endpoint"] + "?" + urlencode(
        {"id_token_hint": token["id_token"], "post_logout_redirect_uri": f"{RP}/bye", "state": state}
    )
    r = browser.get(url, timeout=15)  # follows redirects to the RP's landing page
    assert r.status_code == 200, r.text[:300]
    landed = urlparse(r.url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == f"{RP}/bye"
    assert parse_qs(landed.query)["state"] == [state]
    assert any(p.startswith("/bye") for p in LANDED)
    # The session's tokens are gone.
    time.sleep(0.2)
    r = oauth.introspect_token(meta["introspection_endpoint"], token=token["access_token"])
    assert r.json()["active"] is False
