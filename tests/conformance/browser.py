"""A user agent without a browser: follows the OP's redirects by hand, fills the mock e-ID's form
(stdlib html.parser), answers the consent page, and stops at the client's redirect URI, which is
never fetched. CodeFlow holds one authorization request's state, nonce and PKCE pair."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import requests

from rp import (
    CITIZEN, CLIENTS, ISSUER, TIMEOUT, VNEID, Failed, check, meta, pkce_pair, random_value, token_request,
    verify_id_token,
)


class _Forms(HTMLParser):
    """Every <form>'s action and its named inputs' values (stdlib html.parser)."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "fields": {}})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            self.forms[-1]["fields"].setdefault(a["name"], a.get("value") or "")


def forms_of(html):
    p = _Forms()
    p.feed(html)
    return p.forms


@dataclass
class Outcome:
    """Where an authorization request ended: at the client's redirect URI, or on a page of ours."""

    callback: str = None
    params: dict = field(default_factory=dict)
    page: requests.Response = None
    authenticated: bool = False  # the citizen had to fill the e-ID form

    def param(self, name):
        return self.params.get(name, [None])[0]


class Browser:
    """One user agent with its own cookie jar; follows redirects by hand so it can stop at the
    client's redirect URI (which is never fetched)."""

    def __init__(self, citizen=CITIZEN, consent="allow"):
        self.s = requests.Session()
        self.citizen = citizen
        self.consent = consent

    def hop(self, method, url, data=None):
        r = self.s.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
        loc = r.headers.get("location")
        return r, (urljoin(url, loc) if loc and r.status_code in (301, 302, 303, 307) else None)

    def authorize(self, params, method="GET", endpoint=None):
        endpoint = endpoint or meta()["authorization_endpoint"]
        if method == "GET":
            r, url = self.hop("GET", endpoint + "?" + urlencode(params))
        else:
            r, url = self.hop("POST", endpoint, params)
        return self.follow(r, url)

    def follow(self, r, url):
        out = Outcome()
        for _ in range(15):
            if url is None:
                out.page = r
                return out
            u = urlparse(url)
            at_op, at_eid = url.startswith(ISSUER + "/"), url.startswith(VNEID + "/")
            if not at_op and not at_eid:
                out.callback = url
                out.params = parse_qs(u.query)
                return out
            if at_op and u.path == "/login":
                r, url = self.hop("POST", f"{ISSUER}/login/vneid", {"tx": parse_qs(u.query)["tx"][0]})
            elif at_op and u.path == "/consent":
                tx = parse_qs(u.query)["tx"][0]
                page, _ = self.hop("GET", url)
                check('id="consent-allow"' in page.text, f"consent page: {page.text[:200]}")
                r, url = self.hop("POST", f"{ISSUER}/consent", {"tx": tx, "decision": self.consent})
            elif at_eid:
                r, nxt = self.hop("GET", url)
                if nxt is None and "passcode" in r.text:
                    form = next((f for f in forms_of(r.text) if "passcode" in f["fields"]), None)
                    check(form is not None, f"e-ID page without its form: {r.text[:200]}")
                    fields = dict(form["fields"], login=self.citizen[0], passcode=self.citizen[1])
                    r, nxt = self.hop("POST", urljoin(url, form["action"]), fields)
                    out.authenticated = True
                url = nxt
            else:
                r, url = self.hop("GET", url)
        raise Failed(f"the login never reached the client: stuck at {url}")

    def login(self, client_id, **extra):
        """A complete code flow with PKCE for `client_id`; returns (outcome, token response, claims)."""
        flow = CodeFlow(client_id, **extra)
        out = self.authorize(flow.params)
        return flow.finish(out)


class CodeFlow:
    """One authorization request's state (state, nonce, PKCE) and its completion at the token endpoint."""

    def __init__(self, client_id, scope="openid profile", nonce=True, pkce=True, **extra):
        self.client_id = client_id
        self.redirect_uri = CLIENTS[client_id]["redirect_uri"]
        self.state = random_value()
        self.nonce = random_value() if nonce else None
        self.verifier, challenge = pkce_pair() if pkce else (None, None)
        self.params = {"response_type": "code", "client_id": client_id, "redirect_uri": self.redirect_uri,
                       "scope": scope, "state": self.state}
        if self.nonce:
            self.params["nonce"] = self.nonce
        if pkce:
            self.params.update(code_challenge=challenge, code_challenge_method="S256")
        self.params.update({k: v for k, v in extra.items() if v is not None})

    def code_of(self, out):
        check(out.callback, f"no redirect to the client: HTTP {out.page.status_code if out.page is not None else '?'} "
                            f"{out.page.text[:200] if out.page is not None else ''}")
        check(out.callback.split("?")[0] == self.redirect_uri, f"redirected to {out.callback}")
        check(out.param("error") is None, f"authorization error {out.param('error')}: "
                                          f"{out.param('error_description')}")
        check(out.param("state") == self.state, "state not echoed")
        check(out.param("iss") == ISSUER, f"iss in the authorization response: {out.param('iss')!r} (RFC 9207)")
        code = out.param("code")
        check(code, "no code in the authorization response")
        return code

    def exchange(self, code, **extra):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        if self.verifier:
            data["code_verifier"] = self.verifier
        data.update(extra)
        return token_request(self.client_id, data)

    def finish(self, out):
        code = self.code_of(out)
        r = self.exchange(code)
        check(r.status_code == 200, f"token endpoint: HTTP {r.status_code} {r.text[:300]}")
        check("no-store" in r.headers.get("cache-control", ""), "token response without Cache-Control: no-store")
        tok = r.json()
        check(str(tok.get("token_type", "")).lower() == "bearer", f"token_type {tok.get('token_type')!r}")
        check(tok.get("access_token") and tok.get("id_token"), f"token response lacks tokens: {list(tok)}")
        claims = verify_id_token(tok["id_token"], self.client_id, self.nonce, tok["access_token"])
        return out, tok, claims, code




def error_page(out, what):
    """An error the OP must show to the user instead of redirecting (RFC 6749 §4.1.2.1)."""
    check(out.callback is None, f"{what}: redirected to {out.callback}")
    check(out.page is not None and 400 <= out.page.status_code < 500,
          f"{what}: HTTP {out.page.status_code if out.page is not None else '?'} (expected an error page, 4xx)")


def error_redirect(out, flow, errors, what):
    errors = (errors,) if isinstance(errors, str) else errors
    check(out.callback and out.callback.split("?")[0] == flow.redirect_uri,
          f"{what}: no error redirect to the client (HTTP {out.page.status_code if out.page is not None else '?'})")
    check(out.param("error") in errors, f"{what}: error {out.param('error')!r}, expected one of {errors}")
    check(out.param("code") is None, f"{what}: a code was issued")
    check(out.param("state") == flow.state, f"{what}: state not echoed with the error")


def error_page_or_redirect(out, flow, errors, what):
    if out.callback:
        error_redirect(out, flow, errors, what)
    else:
        error_page(out, what)


