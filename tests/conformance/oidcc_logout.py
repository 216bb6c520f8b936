"""oidcc-rp-initiated-logout-certification-test-plan and
oidcc-backchannel-rp-initiated-logout-certification-test-plan. The back-channel logout tokens
arrive at this runner's own HTTP listener (receiver.py)."""

import time
from urllib.parse import parse_qs, urlencode, urlparse

from browser import Browser, CodeFlow
import receiver
from plan import module
from rp import CLIENTS, ISSUER, check, meta, random_value, token_request, userinfo, verify_jws

RPI = "oidcc-rp-initiated-logout-certification-test-plan"
BCL = "oidcc-backchannel-rp-initiated-logout-certification-test-plan"
CLIENT = "cf-basic"


def logged_in(client=CLIENT):
    b = Browser()
    _, tok, claims, _ = b.login(client, scope="openid profile offline_access")
    return b, tok, claims


def end_session(b, **params):
    """GET end_session_endpoint; confirms on our page if asked (as the user would)."""
    r, url = b.hop("GET", meta()["end_session_endpoint"] + "?" + urlencode(params))
    confirmed = False
    if url is None and r.status_code == 200 and "/logout/confirm" in r.text:
        from browser import forms_of

        form = next(f for f in forms_of(r.text) if "/logout/confirm" in f["action"])
        r, url = b.hop("POST", f"{ISSUER}/logout/confirm", form["fields"])
        confirmed = True
    return r, url, confirmed


def still_logged_in(b, client=CLIENT):
    flow = CodeFlow(client, prompt="none")
    out = b.authorize(flow.params)
    check(out.callback, "prompt=none after logout showed a page")
    return out.param("code") is not None


def expect_redirect_to_plru(url, state):
    plru = CLIENTS[CLIENT]["post_logout_redirect_uri"]
    check(url and url.split("?")[0] == plru, f"not redirected to the post-logout URI: {url}")
    q = parse_qs(urlparse(url).query)
    check(q.get("state") == ([state] if state else None), f"state on the post-logout redirect: {q.get('state')}")


@module(RPI, "oidcc-rp-initiated-logout-discovery-endpoint-verification")
def rpi_discovery():
    ep = meta().get("end_session_endpoint")
    check(isinstance(ep, str) and ep.startswith(ISSUER + "/"), f"end_session_endpoint {ep!r}")


@module(RPI, "oidcc-rp-initiated-logout")
def rpi_logout():
    b, tok, _ = logged_in()
    state = random_value()
    _, url, _ = end_session(b, id_token_hint=tok["id_token"], post_logout_redirect_uri=plru(), state=state)
    expect_redirect_to_plru(url, state)
    check(not still_logged_in(b), "the OP session survived the logout")
    r = token_request(CLIENT, {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
    check(r.status_code == 400, f"refresh token still usable after logout: HTTP {r.status_code}")


def plru():
    return CLIENTS[CLIENT]["post_logout_redirect_uri"]


@module(RPI, "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri")
def rpi_bad_plru():
    b, tok, _ = logged_in()
    r, url, _ = end_session(b, id_token_hint=tok["id_token"], post_logout_redirect_uri=plru() + "/evil",
                            state=random_value())
    check(url is None or url.startswith(ISSUER + "/"), f"redirected to an unregistered URI: {url}")
    check(r.status_code >= 400 or url is None, f"HTTP {r.status_code}")


@module(RPI, "oidcc-rp-initiated-logout-modified-id-token-hint")
def rpi_modified_hint():
    b, tok, _ = logged_in()
    h, p, s = tok["id_token"].split(".")
    forged = f"{h}.{p}.{s[:-6]}AAAAAA"
    r, url, _ = end_session(b, id_token_hint=forged, post_logout_redirect_uri=plru(), state=random_value())
    check(url is None or url.startswith(ISSUER + "/"), f"a forged id_token_hint was honoured: redirected to {url}")
    check(still_logged_in(b), "a forged id_token_hint ended the session without the user confirming")


@module(RPI, "oidcc-rp-initiated-logout-no-id-token-hint")
def rpi_no_hint():
    b, _, _ = logged_in()
    state = random_value()
    _, url, confirmed = end_session(b, client_id=CLIENT, post_logout_redirect_uri=plru(), state=state)
    check(confirmed, "logged out without a hint and without asking the user")
    expect_redirect_to_plru(url, state)
    check(not still_logged_in(b), "the OP session survived the confirmed logout")


@module(RPI, "oidcc-rp-initiated-logout-no-params")
def rpi_no_params():
    b, _, _ = logged_in()
    r, url, confirmed = end_session(b)
    check(confirmed, "logged out with no parameters without asking the user")
    check(url is None and r.status_code == 200, f"after confirming: HTTP {r.status_code} -> {url}")
    check(not still_logged_in(b), "the OP session survived the logout")


@module(RPI, "oidcc-rp-initiated-logout-no-post-logout-redirect-uri")
def rpi_no_plru():
    b, tok, _ = logged_in()
    r, url, _ = end_session(b, id_token_hint=tok["id_token"])
    check(url is None and r.status_code == 200, f"HTTP {r.status_code} -> {url} (expected our logged-out page)")
    check(not still_logged_in(b), "the OP session survived the logout")


@module(RPI, "oidcc-rp-initiated-logout-no-state")
def rpi_no_state():
    b, tok, _ = logged_in()
    _, url, _ = end_session(b, id_token_hint=tok["id_token"], post_logout_redirect_uri=plru())
    expect_redirect_to_plru(url, None)


@module(RPI, "oidcc-rp-initiated-logout-only-state")
def rpi_only_state():
    b, _, _ = logged_in()
    r, url, _ = end_session(b, state=random_value())
    check(url is None and r.status_code == 200, f"HTTP {r.status_code} -> {url} (expected our logged-out page)")
    check(not still_logged_in(b), "the OP session survived the logout")


@module(BCL, "oidcc-backchannel-rp-initiated-logout-discovery-endpoint-verification")
def bcl_discovery():
    m = meta()
    check(m.get("backchannel_logout_supported") is True, "backchannel_logout_supported is not true")
    check(isinstance(m.get("backchannel_logout_session_supported"), bool), "backchannel_logout_session_supported")
    check(m.get("end_session_endpoint"), "no end_session_endpoint")


@module(BCL, "oidcc-backchannel-rp-initiated-logout")
def bcl_logout():
    client = "cf-bc"
    b, tok, idt = logged_in(client)
    check(idt.get("sid"), "no sid in the ID token though backchannel_logout_session_supported")
    state = random_value()
    _, url = b.hop("GET", meta()["end_session_endpoint"] + "?" + urlencode(
        {"id_token_hint": tok["id_token"], "post_logout_redirect_uri": CLIENTS[client]["post_logout_redirect_uri"],
         "state": state}))
    check(url and url.startswith(CLIENTS[client]["post_logout_redirect_uri"]), f"logout redirect: {url}")
    token = receiver.wait_for(lambda c: c.get("sid") == idt["sid"], timeout=10)
    check(token, "no logout token arrived within 10 s")
    header, c = verify_jws(token)
    check(header.get("typ") == "logout+jwt", f"typ {header.get('typ')!r} (OIDC Back-Channel Logout §2.4)")
    check(c.get("iss") == ISSUER, "iss")
    check(c.get("aud") == client or (isinstance(c.get("aud"), list) and client in c["aud"]), f"aud {c.get('aud')}")
    now = time.time()
    check(isinstance(c.get("iat"), int) and abs(c["iat"] - now) < 120, "iat")
    check(isinstance(c.get("exp"), int) and c["exp"] > now and c["exp"] - c["iat"] <= 300, "exp (at most 5 min)")
    check(isinstance(c.get("jti"), str) and c["jti"], "jti")
    check(c.get("sub") == idt["sub"], f"sub {c.get('sub')!r} != the ID token's")
    check(c.get("sid") == idt["sid"], "sid")
    check(c.get("events") == {"http://schemas.openid.net/event/backchannel-logout": {}}, f"events {c.get('events')}")
    check("nonce" not in c, "a logout token must not contain a nonce")
    check(receiver.content_type_of(token).startswith("application/x-www-form-urlencoded"), "not a form POST")
    check(not still_logged_in(b, client), "the OP session survived the logout")
    check(userinfo(tok["access_token"]).status_code == 401, "access token still accepted after logout")
