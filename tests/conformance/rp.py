"""The relying party the conformance modules act as: plain HTTP (requests), JOSE through Authlib,
and a citizen who logs in by filling the mock e-ID's HTML form. Nothing here imports or calls
xacthuc's own code; the server is only reached over HTTP."""

import base64
import hashlib
import json
import os
import re
import secrets
import threading
import time
import uuid
import warnings

import requests

from authlib.deprecate import AuthlibDeprecationWarning  # noqa: E402

# authlib.jose still does all this runner needs; its deprecation notice (in favour of joserfc)
# would only clutter the table. Authlib sets its own "always" filter, so ours goes after it.
warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from jwk import b64url  # noqa: E402

ISSUER = os.environ["CONFORMANCE_ISSUER"]
VNEID = os.environ["CONFORMANCE_VNEID"]
RP = os.environ["CONFORMANCE_RP"]  # this runner's own listener (back-channel logout receiver)
CITIZEN = (os.environ["CONFORMANCE_CITIZEN_ID"], os.environ["CONFORMANCE_CITIZEN_ID"][6:12])
CLIENTS = json.loads(os.environ["CONFORMANCE_CLIENTS"])  # id -> {secret, auth, key, redirect_uri}
XACTHUC_BIN = os.environ["CONFORMANCE_XACTHUC_BIN"]
TIMEOUT = 15


# Every 5xx answer during the run, whichever module provoked it: the run fails on any (a server
# error is never a correct answer to a protocol request, however wrong the request).
SERVER_ERRORS = []
_send = requests.Session.send


def _recording_send(self, request, **kw):
    r = _send(self, request, **kw)
    if r.status_code >= 500:
        SERVER_ERRORS.append(f"{request.method} {request.url.split('?')[0]} -> HTTP {r.status_code}")
    return r


requests.Session.send = _recording_send


class Failed(Exception):
    """A check of the module failed: the server does not do what the plan requires."""


class NotApplicable(Exception):
    """The module does not apply to this server (the reason says why)."""


def check(cond, message):
    if not cond:
        raise Failed(message)


_WARNINGS = threading.local()


def warn(cond, message):
    """A check the suite grades as a WARNING: the module still passes, the row shows the warning."""
    if not cond:
        _WARNINGS.list = getattr(_WARNINGS, "list", []) + [message]


def take_warnings():
    out, _WARNINGS.list = getattr(_WARNINGS, "list", []), []
    return out


def pkce_pair():
    verifier = b64url(secrets.token_bytes(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def random_value(n=16):
    return b64url(secrets.token_bytes(n))


# ----------------------------------------------------------------- discovery and keys
_META = {}


def meta():
    if not _META:
        r = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=TIMEOUT)
        r.raise_for_status()
        _META.update(r.json())
    return _META


def server_jwks():
    """Fetched every time: key rotation is one of the things under test."""
    r = requests.get(meta()["jwks_uri"], timeout=TIMEOUT)
    check(r.status_code == 200, f"jwks_uri: HTTP {r.status_code}")
    return r.json()


def jose_header(token):
    try:
        return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    except Exception as e:  # noqa: BLE001
        raise Failed(f"not a JWS: {e}") from e


def verify_jws(token, typ=None):
    """Signature against the published JWKS, found by kid; returns (header, claims)."""
    header = jose_header(token)
    check(header.get("alg") not in (None, "none"), f"unsigned token: {header}")
    if typ is not None:
        check(str(header.get("typ", "")).lower() == typ.lower(), f"typ {header.get('typ')!r}, expected {typ}")
    keys = [k for k in server_jwks()["keys"] if k.get("kid") == header.get("kid")]
    check(len(keys) == 1, f"kid {header.get('kid')!r} is not (exactly once) in the JWKS")
    check(keys[0].get("alg") in (None, header["alg"]), f"JWKS key alg {keys[0].get('alg')} != {header['alg']}")
    try:
        claims = jwt.decode(token, JsonWebKey.import_key(keys[0]))
    except Exception as e:  # noqa: BLE001
        raise Failed(f"signature does not verify with the JWKS key {header.get('kid')}: {e}") from e
    return header, dict(claims)


def half_hash(value, alg):
    bits = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
    h = hashlib.sha512 if alg == "EdDSA" else bits[alg[-3:]]
    d = h(value.encode()).digest()
    return b64url(d[: len(d) // 2])


def verify_id_token(token, client_id, nonce=None, access_token=None, code=None):
    """OpenID Connect Core 3.1.3.7 as a relying party checks it."""
    header, c = verify_jws(token)
    now = time.time()
    check(c.get("iss") == ISSUER, f"iss {c.get('iss')!r}")
    aud = c.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    check(client_id in auds, f"aud {aud!r} lacks {client_id}")
    if len(auds) > 1:
        check(c.get("azp") == client_id, "azp missing with several audiences")
    check(isinstance(c.get("sub"), str) and 0 < len(c["sub"]) <= 255, "sub")
    check(isinstance(c.get("exp"), int) and c["exp"] > now - 5, f"exp {c.get('exp')}")
    check(isinstance(c.get("iat"), int) and abs(c["iat"] - now) < 300, f"iat {c.get('iat')}")
    if nonce is None:
        check("nonce" not in c, "nonce in the ID token though none was sent")
    else:
        check(c.get("nonce") == nonce, f"nonce {c.get('nonce')!r}, sent {nonce!r}")
    if access_token and "at_hash" in c:
        check(c["at_hash"] == half_hash(access_token, header["alg"]), "at_hash does not match the access token")
    if code and "c_hash" in c:
        check(c["c_hash"] == half_hash(code, header["alg"]), "c_hash does not match the code")
    standard_claims_typed(c, "ID token")
    return c


STRING_CLAIMS = ("name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
                 "picture", "website", "email", "gender", "zoneinfo", "locale", "phone_number")
ADDRESS_MEMBERS = ("formatted", "street_address", "locality", "region", "postal_code", "country")


def standard_claims_typed(claims, where):
    """OIDC Core §5.1 types of the standard claims present (the suite's Validate*StandardClaims)."""
    for k in STRING_CLAIMS:
        check(k not in claims or isinstance(claims[k], str), f"{where}: {k} is not a string")
    for k in ("email_verified", "phone_number_verified"):
        check(k not in claims or isinstance(claims[k], bool), f"{where}: {k} is not a boolean")
    if "updated_at" in claims:
        check(isinstance(claims["updated_at"], (int, float)) and not isinstance(claims["updated_at"], bool),
              f"{where}: updated_at is not a number")
    if "birthdate" in claims:
        check(isinstance(claims["birthdate"], str) and re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", claims["birthdate"]),
              f"{where}: birthdate {claims['birthdate']!r} is not YYYY or YYYY-MM-DD")
    if "address" in claims:
        a = claims["address"]
        check(isinstance(a, dict), f"{where}: address is not an object")
        for k in ADDRESS_MEMBERS:
            check(k not in a or isinstance(a[k], str), f"{where}: address.{k} is not a string")


# ----------------------------------------------------------------- client authentication
def signing_key(client_id):
    return JsonWebKey.import_key(CLIENTS[client_id]["key"])


def sign(header, claims, key):
    return jwt.encode(header, claims, key).decode()


def client_assertion(client_id, aud=None, **overrides):
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud or ISSUER, "jti": str(uuid.uuid4()),
              "iat": now, "exp": now + 60}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    key = CLIENTS[client_id]["key"]
    return sign({"alg": key["alg"], "kid": key["kid"]}, claims, signing_key(client_id))


def authenticate(client_id, data, headers, assertion=None):
    """Adds the client's registered authentication to a token/PAR/introspection request."""
    c = CLIENTS[client_id]
    method = c["auth"]
    if method == "client_secret_basic":
        from urllib.parse import quote

        raw = f"{quote(client_id, safe='')}:{quote(c['secret'], safe='')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    elif method == "client_secret_post":
        data.update(client_id=client_id, client_secret=c["secret"])
    elif method == "private_key_jwt":
        data.update(client_id=client_id,
                    client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    client_assertion=assertion or client_assertion(client_id))
    else:
        data["client_id"] = client_id


def post_endpoint(name, client_id, data, headers=None, auth=True):
    data, headers = dict(data), dict(headers or {})
    if auth:
        authenticate(client_id, data, headers)
    return requests.post(meta()[name], data=data, headers=headers, timeout=TIMEOUT)


def token_request(client_id, data, headers=None, auth=True):
    return post_endpoint("token_endpoint", client_id, data, headers, auth)


def expect_oauth_error(r, errors, what):
    """An RFC 6749 §5.2 error response: 400/401, JSON, `error` one of `errors`."""
    errors = (errors,) if isinstance(errors, str) else errors
    check(r.status_code in (400, 401), f"{what}: HTTP {r.status_code} (expected 400/401) {r.text[:200]}")
    try:
        body = r.json()
    except ValueError:
        raise Failed(f"{what}: error body is not JSON: {r.text[:200]}") from None
    check(body.get("error") in errors, f"{what}: error {body.get('error')!r} ({body.get('error_description')}), "
                                       f"expected one of {errors}")
    return body


def userinfo(access_token, how="get"):
    ep = meta()["userinfo_endpoint"]
    if how == "get":
        return requests.get(ep, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)
    if how == "post-header":
        return requests.post(ep, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)
    return requests.post(ep, data={"access_token": access_token}, timeout=TIMEOUT)
