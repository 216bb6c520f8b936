"""fapi2-security-profile-final-test-plan, variant: private_key_jwt + DPoP, unsigned (PAR)
requests, plain responses, OpenID Connect. Modules that need mTLS, signed request objects, JARM,
grant management or an ecosystem profile (Brazil, ConnectID, CDR, KSA) do not apply and are not
listed. Everything runs against the client `cf-fapi2`, registered with `--fapi2`."""

import os
import time

import requests

from browser import Browser, CodeFlow, error_page_or_redirect
from dpop import DPoPKey, send
from plan import module
from rp import (
    CLIENTS, ISSUER, NotApplicable, check, client_assertion, expect_oauth_error, meta, verify_id_token,
    verify_jws,
)

PLAN = "fapi2-security-profile-final-test-plan"
CLIENT = "cf-fapi2"
FAPI_ALGS = {"PS256", "ES256", "EdDSA"}
# Consents to cf-fapi2 only in user-rejects-authentication (so the consent page is shown there).
SECOND_CITIZEN = (os.environ["CONFORMANCE_CITIZEN2_ID"], os.environ["CONFORMANCE_CITIZEN2_ID"][6:12])


def applicable():
    if "dpop_signing_alg_values_supported" not in meta():
        raise NotApplicable("discovery lacks dpop_signing_alg_values_supported: no DPoP in this build")
    registration = os.environ.get("CONFORMANCE_FAPI2_CLI", "")
    if not registration:
        raise NotApplicable("`xacthuc clients add --help` has no --fapi2: no per-client FAPI 2.0 profile in this build")
    check(registration == "registered", f"`xacthuc clients add --fapi2` {registration}")


def fapi(name, slow=False):
    def register(fn):
        def run():
            applicable()
            fn()

        return module(PLAN, f"fapi2-security-profile-final-{name}", slow)(run)

    return register


class Fapi2Flow:
    """PAR (with DPoP and private_key_jwt) -> authorize -> token, as a FAPI 2.0 client does it."""

    def __init__(self, client=CLIENT, key=None, **par_extra):
        self.flow = CodeFlow(client)
        self.client = client
        self.key = key or DPoPKey()
        self.par_params = dict(self.flow.params)
        self.par_params.update(par_extra)
        self.par_params = {k: v for k, v in self.par_params.items() if v is not None}

    def par(self, proof=True, assertion=None):
        """`assertion`: a function making the client assertion (made afresh for a nonce retry)."""
        def data():
            return dict(self.par_params, client_id=self.client,
                        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                        client_assertion=assertion() if assertion else client_assertion(self.client))

        ep = meta()["pushed_authorization_request_endpoint"]
        if proof:
            return send(self.key, "POST", ep, data=data)
        return requests.post(ep, data=data(), timeout=15)

    def request_uri(self):
        r = self.par()
        check(r.status_code == 201, f"PAR: HTTP {r.status_code} {r.text[:300]}")
        body = r.json()
        check(body.get("request_uri", "").startswith("urn:ietf:params:oauth:request_uri:"), "request_uri")
        check(0 < body.get("expires_in", 0) <= 600, f"PAR expires_in {body.get('expires_in')}")
        return body["request_uri"]

    def authorize(self, browser=None, request_uri=None):
        self.browser = browser or Browser()
        request_uri = request_uri or self.request_uri()
        return self.browser.authorize({"client_id": self.client, "request_uri": request_uri})

    def code(self):
        return self.flow.code_of(self.authorize())

    def token(self, code, key=None, proof=True, make_proof=None, retry=True, **overrides):
        def data():
            d = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.flow.redirect_uri,
                 "code_verifier": self.flow.verifier, "client_id": self.client,
                 "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                 "client_assertion": client_assertion(self.client)}
            d.update(overrides)
            # Callables (client assertions) are made afresh for each attempt of a nonce retry.
            return {k: v() if callable(v) else v for k, v in d.items() if v is not None}

        if not proof:
            return requests.post(meta()["token_endpoint"], data=data(), timeout=15)
        return send(key or self.key, "POST", meta()["token_endpoint"], data=data, make_proof=make_proof, retry=retry)

    def tokens(self):
        code = self.code()
        r = self.token(code)
        check(r.status_code == 200, f"token: HTTP {r.status_code} {r.text[:300]}")
        tok = r.json()
        check(tok.get("token_type") == "DPoP", f"token_type {tok.get('token_type')!r}, expected DPoP")
        claims = verify_id_token(tok["id_token"], self.client, self.flow.nonce)
        check(verify_jws(tok["id_token"])[0]["alg"] in FAPI_ALGS, "ID token alg not PS256/ES256/EdDSA")
        return tok, claims


def resource(key, token, method="GET", **kw):
    return send(key, method, meta()["userinfo_endpoint"], access_token=token, **kw)


@fapi("discovery-end-point-verification")
def discovery():
    m = meta()
    algs = set(m.get("dpop_signing_alg_values_supported", []))
    # Server-wide metadata: other clients may use more; a fapi2 client's proofs are held to
    # FAPI_ALGS (dpop-negative-tests sends an RS256 proof).
    check(algs & FAPI_ALGS, f"DPoP algs {algs} include none of {FAPI_ALGS}")
    check("none" not in algs and not any(a.startswith("HS") for a in algs), "symmetric or none DPoP alg")
    check(m.get("pushed_authorization_request_endpoint"), "no PAR endpoint")
    check("private_key_jwt" in m.get("token_endpoint_auth_methods_supported", []), "private_key_jwt")
    check(m.get("code_challenge_methods_supported") == ["S256"] or "S256" in m["code_challenge_methods_supported"],
          "S256")
    check(m.get("authorization_response_iss_parameter_supported") is True, "authorization_response_iss_parameter")
    check(set(m.get("token_endpoint_auth_signing_alg_values_supported", [])) & FAPI_ALGS, "assertion algs")


@fapi("happy-flow")
def happy_flow():
    f = Fapi2Flow()
    tok, claims = f.tokens()
    at_header, at = (verify_jws(tok["access_token"]) if tok["access_token"].count(".") == 2 else (None, None))
    if at:
        check(at.get("cnf", {}).get("jkt") == f.key.thumbprint(), f"cnf.jkt {at.get('cnf')} != the proof key")
    r = resource(f.key, tok["access_token"])
    check(r.status_code == 200, f"userinfo with DPoP: HTTP {r.status_code} {r.text[:200]}")
    check(r.json().get("sub") == claims["sub"], "userinfo sub")


@fapi("user-rejects-authentication")
def user_rejects():
    """A citizen who has not consented to this client before declines on the consent page."""
    f = Fapi2Flow()
    out = f.authorize(browser=Browser(citizen=SECOND_CITIZEN, consent="deny"))
    check(out.callback and out.callback.split("?")[0] == f.flow.redirect_uri, f"no redirect to the client: {out}")
    check(out.param("error") == "access_denied", f"error {out.param('error')!r}, expected access_denied")
    check(out.param("state") == f.flow.state and out.param("iss") == ISSUER, "state and iss on the error response")
    check(out.param("code") is None, "a code despite the refusal")


@fapi("ensure-redirect-uri-in-authorization-request")
def redirect_uri_required():
    f = Fapi2Flow(redirect_uri=None)
    expect_oauth_error(f.par(), "invalid_request", "PAR without redirect_uri")


@fapi("ensure-registered-redirect-uri")
def registered_redirect_uri():
    f = Fapi2Flow(redirect_uri=CLIENTS[CLIENT]["redirect_uri"] + "/evil")
    expect_oauth_error(f.par(), ("invalid_request", "invalid_redirect_uri"), "PAR with an unregistered redirect_uri")


@fapi("ensure-unsigned-authorization-request-without-using-par-fails")
def without_par():
    flow = CodeFlow(CLIENT)
    out = Browser().authorize(flow.params)
    error_page_or_redirect(out, flow, "invalid_request", "authorization request not pushed")


@fapi("ensure-response-type-code-idtoken-fails")
def code_id_token():
    f = Fapi2Flow(response_type="code id_token")
    expect_oauth_error(f.par(), ("unsupported_response_type", "invalid_request", "unauthorized_client"),
                       "response_type=code id_token")


@fapi("par-ensure-pkce-required")
def pkce_required():
    f = Fapi2Flow(code_challenge=None, code_challenge_method=None)
    expect_oauth_error(f.par(), "invalid_request", "PAR without code_challenge")


@fapi("par-ensure-plain-pkce-rejected")
def pkce_plain():
    f = Fapi2Flow(code_challenge_method="plain")
    f.par_params["code_challenge"] = f.flow.verifier
    expect_oauth_error(f.par(), "invalid_request", "PAR with PKCE plain")


@fapi("par-ensure-pkce-code-verifier-required")
def verifier_required():
    f = Fapi2Flow()
    expect_oauth_error(f.token(f.code(), code_verifier=None), "invalid_grant", "token without code_verifier")


@fapi("par-incorrect-pkce-code-verifier-rejected")
def verifier_wrong():
    f = Fapi2Flow()
    expect_oauth_error(f.token(f.code(), code_verifier=f.flow.verifier[:-4] + "AAAA"), "invalid_grant",
                       "token with a wrong code_verifier")


@fapi("par-attempt-reuse-request_uri")
def reuse_request_uri():
    f = Fapi2Flow()
    uri = f.request_uri()
    f.flow.code_of(f.authorize(request_uri=uri))
    out = Browser().authorize({"client_id": CLIENT, "request_uri": uri})
    check(not (out.callback and out.param("code")), "a used request_uri gave a second code")


def par_assertion_fails(what, **claims):
    """A PAR request whose client assertion carries `claims` is refused as invalid_client."""
    r = Fapi2Flow().par(assertion=lambda: client_assertion(CLIENT, **claims))
    expect_oauth_error(r, "invalid_client", what)


@fapi("par-test-par-endpoint-url-as-audience-fails")
def par_endpoint_audience():
    par_assertion_fails("client assertion with the PAR endpoint as audience",
                        aud=meta()["pushed_authorization_request_endpoint"])


@fapi("attempt-reuse-authorization-code-after-one-second")
def code_reuse():
    f = Fapi2Flow()
    code = f.code()
    r = f.token(code)
    check(r.status_code == 200, f"first use: HTTP {r.status_code} {r.text[:200]}")
    time.sleep(1)
    expect_oauth_error(f.token(code), "invalid_grant", "code used a second time")


@fapi("attempt-to-use-expired-auth-code", slow=True)
def code_lifetime():
    """FAPI 2.0 SP §5.3.2.1: codes live at most 60 s. A code 61 s old must be refused."""
    f = Fapi2Flow()
    code = f.code()
    time.sleep(61)
    expect_oauth_error(f.token(code), "invalid_grant", "a code 61 s old")


@fapi("ensure-authorization-code-is-bound-to-client")
def code_bound():
    f = Fapi2Flow()
    code = f.code()
    other = {"client_id": "cf-pkjwt", "client_assertion": lambda: client_assertion("cf-pkjwt"),
             "redirect_uri": f.flow.redirect_uri}
    r = f.token(code, **other)
    check(r.status_code in (400, 401) and r.json().get("error") in ("invalid_grant", "invalid_client"),
          f"another client redeemed the code: HTTP {r.status_code}")


@fapi("ensure-holder-of-key-required")
def holder_of_key():
    f = Fapi2Flow()
    r = f.token(f.code(), proof=False)
    expect_oauth_error(r, ("invalid_request", "invalid_dpop_proof", "invalid_grant"), "token request without DPoP")


@fapi("ensure-dpop-proof-at-par-endpoint-binding-success")
def par_binding_success():
    Fapi2Flow().tokens()


def refresh_data(refresh_token, client=CLIENT):
    return {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion(client)}


@fapi("refresh-token", slow=True)
def refresh():
    """As the suite's module: refresh with a proof; when the server rotated the refresh token, the
    previous one still works 30 s later (FAPI 2.0 SP §5.3.2.1: "shall not use refresh token
    rotation unless, in the case a response with a new refresh token is not received and stored
    by the client, retrying the request (with the previous refresh token) will succeed"); a
    refresh without a proof fails; another client cannot use the refresh token."""
    f = Fapi2Flow(scope="openid profile offline_access")
    tok, claims = f.tokens()
    check(tok.get("refresh_token"), "no refresh token")
    ep = meta()["token_endpoint"]
    r = send(f.key, "POST", ep, data=lambda: refresh_data(tok["refresh_token"]))
    check(r.status_code == 200, f"refresh: HTTP {r.status_code} {r.text[:200]}")
    new = r.json()
    check(new.get("token_type") == "DPoP", f"refreshed token_type {new.get('token_type')!r}")
    check(resource(f.key, new["access_token"]).status_code == 200, "refreshed token refused at userinfo")
    if new.get("refresh_token", tok["refresh_token"]) != tok["refresh_token"]:
        time.sleep(30)
        r = send(f.key, "POST", ep, data=lambda: refresh_data(tok["refresh_token"]))
        check(r.status_code == 200, f"the previous refresh token 30 s after rotation: HTTP {r.status_code} "
                                    f"{r.text[:200]} (FAPI 2.0 SP §5.3.2.1: rotation only if a retry with "
                                    "the previous token succeeds)")
        new = r.json()
    current = new.get("refresh_token", tok["refresh_token"])
    r = requests.post(ep, data=refresh_data(current), timeout=15)
    expect_oauth_error(r, ("invalid_client", "invalid_grant", "invalid_request", "invalid_dpop_proof"),
                       "refresh without a DPoP proof")
    check(r.status_code == 400, f"refresh without a proof: HTTP {r.status_code}, expected 400")
    r = send(DPoPKey(), "POST", ep, data=lambda: refresh_data(current, "cf-pkjwt"))
    expect_oauth_error(r, ("invalid_grant", "invalid_client"), "another client presenting the refresh token")
