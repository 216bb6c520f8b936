"""fapi2-security-profile-final-test-plan, DPoP (RFC 9449) part: the proof's `iat` window at the
token endpoint, the suite's DPoP negative tests at the resource (userinfo), and the issue's DPoP
cases at the token endpoint."""

import http.client
import time
from urllib.parse import urlparse

import requests

from dpop import DPoPKey, nonce_error, send
from fapi2 import Fapi2Flow, applicable, fapi, refresh_data, resource
from plan import module
from rp import ISSUER, check, expect_oauth_error, meta


@fapi("check-dpop-proof-nbf-exp")
def dpop_iat_window():
    """Proofs 10 s off are accepted (clock skew); an hour off they are refused (RFC 9449 §11.1)."""
    ep = meta()["token_endpoint"]
    for skew, ok in ((-10, True), (10, True), (-3600, False), (3600, False)):
        f = Fapi2Flow()
        r = f.token(f.code(), make_proof=lambda k, s=skew: k.proof("POST", ep, claims={"iat": int(time.time()) + s}))
        if ok:
            check(r.status_code == 200, f"proof with iat {skew:+d}s refused: HTTP {r.status_code} {r.text[:200]}")
        else:
            expect_oauth_error(r, "invalid_dpop_proof", f"proof with iat {skew:+d}s")


@fapi("dpop-negative-tests")
def dpop_negative():
    """RFC 9449 §4.3 at the resource (userinfo), as the suite's module runs them, plus a replayed
    proof, a stale nonce and a bound token presented as Bearer."""
    f = Fapi2Flow()
    tok, _ = f.tokens()
    at, key, ep = tok["access_token"], f.key, meta()["userinfo_endpoint"]
    check(resource(key, at).status_code == 200, "the good proof is refused")
    other, rsa = DPoPKey(), DPoPKey(rsa=True)
    bad = {
        "typ missing": lambda k: k.proof("GET", ep, at, drop=("typ",)),
        "typ wrong": lambda k: k.proof("GET", ep, at, header={"typ": "jwt"}),
        "jwk missing": lambda k: k.proof("GET", ep, at, drop=("jwk",)),
        "jti missing": lambda k: k.proof("GET", ep, at, drop=("jti",)),
        "htm missing": lambda k: k.proof("GET", ep, at, drop=("htm",)),
        "htu missing": lambda k: k.proof("GET", ep, at, drop=("htu",)),
        "iat missing": lambda k: k.proof("GET", ep, at, drop=("iat",)),
        "ath missing": lambda k: k.proof("GET", ep, None),
        "ath wrong": lambda k: k.proof("GET", ep, at + "x"),
        "htm wrong (PUT)": lambda k: k.proof("PUT", ep, at),
        "htu wrong": lambda k: k.proof("GET", ISSUER + "/elsewhere", at),
        "iat an hour ahead": lambda k: k.proof("GET", ep, at, claims={"iat": int(time.time()) + 3600}),
        "iat an hour ago": lambda k: k.proof("GET", ep, at, claims={"iat": int(time.time()) - 3600}),
        "private key in jwk": lambda k: k.proof("GET", ep, at, header={"jwk": k.private}),
        "signed by another key": lambda k: other.with_nonce(k.nonce).proof("GET", ep, at),
        "RS256 (not a FAPI 2.0 algorithm)": lambda k: rsa.with_nonce(k.nonce).proof("GET", ep, at),
        "broken signature": lambda k: k.proof("GET", ep, at)[:-6] + "AAAAAA",
        "not a JWT": lambda k: "not.a.jwt",
        "alg none": lambda k: unsigned(k.proof("GET", ep, at)),
    }
    failures = [what for what, make in bad.items() if resource(key, at, make_proof=make).status_code not in (400, 401)]
    check(not failures, f"accepted at userinfo: {', '.join(failures)}")
    good = {
        "htu with a query and fragment (ignored in the match)": lambda k: k.proof("GET", ep + "?x=1#f", at),
        "unknown header and claim members": lambda k: k.proof("GET", ep, at, header={"x-extra": 1},
                                                              claims={"x-extra": 1}),
    }
    refused = [what for what, make in good.items() if resource(key, at, make_proof=make).status_code != 200]
    check(not refused, f"refused at userinfo though valid: {', '.join(refused)}")
    # Two DPoP headers (requests would merge them; http.client sends both).
    u = urlparse(ep)
    conn = (http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection)(u.hostname, u.port,
                                                                                              timeout=15)
    conn.putrequest("GET", u.path)
    conn.putheader("Authorization", f"DPoP {at}")
    conn.putheader("DPoP", key.proof("GET", ep, at))
    conn.putheader("DPoP", key.proof("GET", ep, at))
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()
    check(status in (400, 401), f"two DPoP headers accepted: HTTP {status}")
    # The same proof (jti) twice: the first use may be asked for a fresher nonce, the second must fail.
    proof = key.proof("GET", ep, at)
    first = resource(key, at, make_proof=lambda k: proof, retry=False)
    if nonce_error(first):
        proof = key.proof("GET", ep, at)
        first = resource(key, at, make_proof=lambda k: proof, retry=False)
    check(first.status_code == 200, f"fresh proof refused: HTTP {first.status_code}")
    again = resource(key, at, make_proof=lambda k: proof, retry=False)
    check(again.status_code in (400, 401), f"replayed proof accepted: HTTP {again.status_code}")
    # A nonce the server never gave (or one that expired) is answered with use_dpop_nonce.
    if key.nonce:
        r = resource(key, at, make_proof=lambda k: k.proof("GET", ep, at, claims={"nonce": "stale-" + k.nonce}),
                     retry=False)
        check(nonce_error(r) and r.headers.get("DPoP-Nonce"), f"stale nonce: HTTP {r.status_code}")
    # The bound token as a Bearer token.
    r = requests.get(ep, headers={"Authorization": f"Bearer {at}"}, timeout=15)
    check(r.status_code == 401, f"DPoP-bound token accepted as Bearer: HTTP {r.status_code}")


def unsigned(jws):
    import base64
    import json

    h = json.loads(base64.urlsafe_b64decode(jws.split(".")[0] + "=="))
    h["alg"] = "none"
    enc = base64.urlsafe_b64encode(json.dumps(h).encode()).rstrip(b"=").decode()
    return f"{enc}.{jws.split('.')[1]}."


@module("beyond the plans: checks the issue asks for", "xacthuc-dpop-token-endpoint-negative")
def dpop_token_endpoint():
    """The issue's DPoP cases at the token endpoint (the suite runs its negative tests at the
    resource): a replayed proof, a proof for another htu or htm, and a nonce the server no longer
    accepts."""
    applicable()
    ep = meta()["token_endpoint"]
    f = Fapi2Flow(scope="openid profile offline_access")
    code = f.code()
    cases = {
        "htu of the PAR endpoint": lambda k: k.proof("POST", meta()["pushed_authorization_request_endpoint"]),
        "htm GET": lambda k: k.proof("GET", ep),
        "stale nonce": lambda k: k.proof("POST", ep, claims={"nonce": "stale-" + (k.nonce or "none")}),
    }
    for what, make in cases.items():
        if what == "stale nonce" and not f.key.nonce:
            continue  # the server does not use nonces at the token endpoint
        r = f.token(code, make_proof=make)
        if what == "stale nonce":
            check(nonce_error(r) and r.headers.get("DPoP-Nonce"), f"{what}: HTTP {r.status_code} {r.text[:200]}")
        else:
            expect_oauth_error(r, "invalid_dpop_proof", f"token request with a proof of {what}")
    # A fresh code: whether a refused proof also spends the code is the server's choice.
    f = Fapi2Flow(key=f.key, scope="openid profile offline_access")
    code = f.code()
    proof = f.key.proof("POST", ep)
    r = f.token(code, make_proof=lambda k: proof, retry=False)
    if nonce_error(r):
        proof = f.key.proof("POST", ep)
        r = f.token(code, make_proof=lambda k: proof, retry=False)
    check(r.status_code == 200, f"token request with a good proof: HTTP {r.status_code} {r.text[:200]}")
    tok = r.json()
    r = send(f.key, "POST", ep, data=lambda: refresh_data(tok["refresh_token"]), make_proof=lambda k: proof,
             retry=False)
    expect_oauth_error(r, ("invalid_dpop_proof", "use_dpop_nonce"), "a replayed proof (same jti) at the token endpoint")
