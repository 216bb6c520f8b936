"""fapi2-security-profile-final-test-plan, the remaining applicable modules: requests without
state or nonce, scope order, the DPoP auth scheme's case, `dpop_jkt` binding, client assertions
at PAR and at the token endpoint, and the PAR endpoint's own rules."""

import time

import requests

from browser import Browser
from dpop import DPoPKey, send
from fapi2 import CLIENT, Fapi2Flow, fapi, par_assertion_fails
from rp import check, client_assertion, expect_oauth_error, meta, random_value

PAR_EP = "pushed_authorization_request_endpoint"


@fapi("ensure-authorization-request-without-state-success")
def without_state():
    f = Fapi2Flow(state=None)
    out = f.authorize()
    check(out.callback and out.param("code") and out.param("state") is None, f"without state: {out.callback}")


@fapi("ensure-authorization-request-without-nonce-success")
def without_nonce():
    f = Fapi2Flow(nonce=None)
    f.flow.nonce = None
    f.tokens()


@fapi("ensure-authorization-request-with-64-char-nonce-success")
def nonce_64():
    f = Fapi2Flow()
    f.flow.nonce = f.par_params["nonce"] = random_value(48)[:64]
    f.tokens()


@fapi("ensure-other-scope-order-succeeds")
def scope_order():
    Fapi2Flow(scope="profile openid").tokens()


@fapi("par-without-duplicate-parameters")
def only_request_uri():
    """The authorization request carries client_id and request_uri and nothing else."""
    Fapi2Flow().tokens()


@fapi("access-token-type-header-case-sensitivity")
def scheme_case():
    f = Fapi2Flow()
    tok, _ = f.tokens()
    ep = meta()["userinfo_endpoint"]
    for scheme in ("dpop", "DPOP"):
        r = send(f.key, "GET", ep, headers={"Authorization": f"{scheme} {tok['access_token']}"},
                 make_proof=lambda k: k.proof("GET", ep, tok["access_token"]))
        # send() sets "DPoP <token>" itself when given the token; here the header is ours.
        check(r.status_code == 200, f"auth scheme {scheme!r} refused: HTTP {r.status_code} "
                                    "(schemes are case-insensitive)")


def _code_with_jkt(jkt, par_proof):
    f = Fapi2Flow()
    f.par_params["dpop_jkt"] = jkt
    r = f.par(proof=par_proof)
    check(r.status_code == 201, f"PAR with dpop_jkt: HTTP {r.status_code} {r.text[:200]}")
    return f, f.flow.code_of(f.authorize(request_uri=r.json()["request_uri"]))


@fapi("ensure-dpop-auth-code-binding-success")
def jkt_binding_success():
    key = DPoPKey()
    f, code = _code_with_jkt(key.thumbprint(), par_proof=False)
    r = f.token(code, key=key)
    check(r.status_code == 200, f"token with the dpop_jkt key: HTTP {r.status_code} {r.text[:200]}")


@fapi("ensure-token-endpoint-fails-with-mismatched-dpop-jkt")
def jkt_mismatch_at_token():
    f, code = _code_with_jkt(DPoPKey().thumbprint(), par_proof=False)
    expect_oauth_error(f.token(code, key=DPoPKey()), ("invalid_grant", "invalid_dpop_proof"),
                       "token proof by another key than the PAR's dpop_jkt")


@fapi("ensure-token-endpoint-fails-with-mismatched-dpop-proof-jkt")
def proof_key_mismatch_at_token():
    f = Fapi2Flow()
    code = f.code()  # PAR carried a proof by f.key
    expect_oauth_error(f.token(code, key=DPoPKey()), ("invalid_grant", "invalid_dpop_proof"),
                       "token proof by another key than the PAR's proof")


@fapi("ensure-mismatched-dpop-jkt-fails")
def jkt_mismatch_at_par():
    f = Fapi2Flow()
    f.par_params["dpop_jkt"] = DPoPKey().thumbprint()
    expect_oauth_error(f.par(), ("invalid_dpop_proof", "invalid_request"), "PAR whose dpop_jkt is not the proof's key")


def _token_assertion_fails(what, **claims):
    f = Fapi2Flow()
    r = f.token(f.code(), client_assertion=lambda: client_assertion(CLIENT, **claims))
    expect_oauth_error(r, "invalid_client", what)


@fapi("ensure-client-assertion-in-token-endpoint")
def assertion_ok():
    Fapi2Flow().tokens()


@fapi("ensure-client-assertion-with-exp-is-5-minutes-in-past-fails")
def assertion_expired():
    now = int(time.time())
    _token_assertion_fails("client assertion expired 5 minutes ago", iat=now - 360, exp=now - 300)


@fapi("ensure-client-assertion-with-wrong-aud-fails")
def assertion_wrong_aud():
    _token_assertion_fails("client assertion for another audience", aud="https://not-this-server.example")


@fapi("ensure-client-assertion-with-no-sub-fails")
def assertion_no_sub():
    _token_assertion_fails("client assertion without sub", sub=None)


@fapi("par-test-token-endpoint-as-audience-fails")
def token_endpoint_audience():
    par_assertion_fails("client assertion with the token endpoint as audience", aud=meta()["token_endpoint"])


@fapi("par-test-par-endpoint-as-array-audience-fails")
def par_endpoint_array_audience():
    par_assertion_fails("client assertion with [PAR endpoint] as audience", aud=[meta()[PAR_EP]])


@fapi("par-ensure-jwt-client-assertions-nbf-8-seconds-in-the-future-is-accepted")
def assertion_8s_ahead():
    now = int(time.time())
    r = Fapi2Flow().par(assertion=lambda: client_assertion(CLIENT, iat=now + 8, nbf=now + 8, exp=now + 68))
    check(r.status_code == 201, f"assertion with iat/nbf 8 s ahead refused: HTTP {r.status_code} {r.text[:200]}")


@fapi("par-ensure-jwt-client-assertions-iat-nbf-over-60-seconds-in-the-future-fails")
def assertion_61s_ahead():
    now = int(time.time())
    r = Fapi2Flow().par(assertion=lambda: client_assertion(CLIENT, iat=now + 61, nbf=now + 61, exp=now + 121))
    expect_oauth_error(r, "invalid_client", "client assertion with iat/nbf 61 s ahead")


@fapi("par-ensure-request-uri-is-bound-to-client")
def request_uri_bound():
    uri = Fapi2Flow().request_uri()
    out = Browser().authorize({"client_id": "cf-pkjwt", "request_uri": uri})
    check(not (out.callback and out.param("code")), "another client's request_uri gave a code")


@fapi("par-reject-request-uri-in-par-authorization-form-params")
def request_uri_in_par():
    f = Fapi2Flow(request_uri="urn:ietf:params:oauth:request_uri:" + random_value())
    expect_oauth_error(f.par(), "invalid_request", "request_uri inside a pushed request")


@fapi("par-reject-invalid-http-verb")
def par_get():
    r = requests.get(meta()[PAR_EP], params=Fapi2Flow().par_params, timeout=15)
    check(r.status_code in (400, 405), f"GET on the PAR endpoint: HTTP {r.status_code}")


@fapi("par-attempt-to-use-expired-request_uri", slow=True)
def request_uri_expired():
    f = Fapi2Flow()
    r = f.par()
    check(r.status_code == 201, f"PAR: HTTP {r.status_code}")
    ttl = r.json()["expires_in"]
    check(ttl <= 120, f"request_uri lives {ttl} s; waiting that long is beyond this runner")
    time.sleep(ttl + 1)
    out = Browser().authorize({"client_id": CLIENT, "request_uri": r.json()["request_uri"]})
    check(not (out.callback and out.param("code")), f"a request_uri {ttl + 1} s old (expires_in {ttl}) gave a code")


@fapi("ensure-response-type-token-fails")
def response_type_token():
    f = Fapi2Flow(response_type="token")
    expect_oauth_error(f.par(), ("unsupported_response_type", "invalid_request", "unauthorized_client"),
                       "response_type=token")

