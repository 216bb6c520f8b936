"""DPoP (RFC 9449) as a client makes it: proofs signed with the client's own key pair, the server
nonce (`DPoP-Nonce`, `use_dpop_nonce`) remembered per server and retried once, and `ath` for
resource requests."""

import hashlib
import json
import time
import uuid

import requests

from jwk import b64url, ec_jwk
from rp import TIMEOUT, JsonWebKey, sign


class DPoPKey:
    def __init__(self, rsa=False):
        self.alg = "RS256" if rsa else "ES256"
        self.key = JsonWebKey.generate_key("RSA", 2048, is_private=True) if rsa else \
            JsonWebKey.generate_key("EC", "P-256", is_private=True)
        members = ("kty", "n", "e") if rsa else ("kty", "crv", "x", "y")
        public, private = (self.key.as_dict(), self.key.as_dict(is_private=True)) if rsa else \
            (ec_jwk(self.key), ec_jwk(self.key, private=True))
        self.public = {k: v for k, v in public.items() if k in members}
        self.private = private
        self.nonce = None  # the last DPoP-Nonce the server gave

    def with_nonce(self, nonce):
        self.nonce = nonce
        return self

    def thumbprint(self):
        # RFC 7638: the required members, lexicographic order, no whitespace.
        required = ("e", "kty", "n") if self.public["kty"] == "RSA" else ("crv", "kty", "x", "y")
        canon = json.dumps({k: self.public[k] for k in required}, separators=(",", ":"))
        return b64url(hashlib.sha256(canon.encode()).digest())

    def proof(self, htm, htu, access_token=None, header=None, claims=None, drop=(), nonce=True):
        h = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public}
        c = {"jti": str(uuid.uuid4()), "htm": htm, "htu": htu, "iat": int(time.time())}
        if nonce and self.nonce:
            c["nonce"] = self.nonce
        if access_token:
            c["ath"] = b64url(hashlib.sha256(access_token.encode()).digest())
        h.update(header or {})
        c.update(claims or {})
        for k in drop:
            h.pop(k, None)
            c.pop(k, None)
        return sign(h, c, self.key)


def nonce_error(r):
    if r.status_code == 400:
        try:
            return r.json().get("error") == "use_dpop_nonce"
        except ValueError:
            return False
    return r.status_code == 401 and 'error="use_dpop_nonce"' in r.headers.get("www-authenticate", "")


def send(key, method, url, access_token=None, headers=None, make_proof=None, retry=True, data=None):
    """Sends with a fresh proof; on `use_dpop_nonce` takes the nonce and sends once more (RFC 9449
    §8 and §9). `make_proof(key)` builds a non-standard proof for the negative tests. `data` may be
    a function: it is called for each attempt, so a retry carries a fresh client assertion (the
    first one's `jti` may already be spent)."""
    for _ in range(2 if retry else 1):
        h = dict(headers or {})
        h["DPoP"] = make_proof(key) if make_proof else key.proof(method, url, access_token)
        if access_token:
            h["Authorization"] = f"DPoP {access_token}"
        body = data() if callable(data) else data
        r = requests.request(method, url, headers=h, data=body, timeout=TIMEOUT)
        if r.headers.get("DPoP-Nonce"):
            key.nonce = r.headers["DPoP-Nonce"]
        if not nonce_error(r):
            return r
    return r
