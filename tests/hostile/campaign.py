#!/usr/bin/env python3
"""Hostile-HTTP campaign against a real `xacthuc dev` (Python standard library, raw sockets).

Starts the server on free ports with a fresh data directory, registers its clients with the CLI,
then sends what an attacker would: oversized bodies and headers, invalid UTF-8, duplicate
parameters, forged JWTs (alg none, HS256 keyed with our public key, wrong and huge kid) in every
place a JWT is read, nested and huge JSON, path traversal, slow clients, and a flood of anonymous
authorization requests. Every answer must be a proper refusal (4xx, an OAuth error, or an error
redirect to a registered redirect URI); a 5xx, a dropped request, a panic in the server log or
unbounded memory fails the run. Prints the counts by status class.

    tests/hostile/campaign.py BIN        # BIN: the xacthuc binary to run
"""

import base64
import collections
import concurrent.futures
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BIN = sys.argv[1]
OUT = os.environ.get("HOSTILE_OUT", "target/hostile")
# Beyond the per-address bound on login transactions (login_tx_per_ip, 2,000 by default).
FLOOD = int(os.environ.get("HOSTILE_FLOOD", "6000"))
# Growth of the server's resident memory allowed across the whole flood.
FLOOD_RSS_LIMIT_MB = int(os.environ.get("HOSTILE_FLOOD_RSS_MB", "96"))
SLOW_CLIENTS = int(os.environ.get("HOSTILE_SLOW_CLIENTS", "64"))
# How long a slow client may hold a connection before the server must have dropped it.
SLOW_DEADLINE = int(os.environ.get("HOSTILE_SLOW_DEADLINE", "45"))
RP_CB = "https://rp.hostile.example/cb"

statuses = collections.Counter()
failures = []
probes = 0


def fail(what, detail):
    failures.append(f"{what}: {detail}")
    print(f"  FAIL {what}: {detail}", flush=True)


# ------------------------------------------------------------------ raw HTTP
class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def dechunk(data):
    out, i = b"", 0
    while True:
        j = data.find(b"\r\n", i)
        if j < 0:
            return out
        size = int(data[i:j].split(b";")[0] or b"0", 16)
        if size == 0:
            return out
        out += data[j + 2 : j + 2 + size]
        i = j + 2 + size + 2


# The local address requests come from. The flood comes from its own loopback address
# (127.0.0.0/8 is all loopback on Linux), so the per-address limit it runs into does not stop the
# later checks from reaching the parsers.
SOURCE = None


def raw(request: bytes, timeout=30.0):
    """Sends `request` as is on a new connection; returns the response, or None if the server
    closed the connection without one."""
    s = socket.create_connection((HOST, PORT), timeout=timeout, source_address=(SOURCE, 0) if SOURCE else None)
    try:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413/431) and close before reading everything
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
                if re.search(rb"(?im)^transfer-encoding:\s*chunked", head) and rest.endswith(b"0\r\n\r\n"):
                    break
    finally:
        s.close()
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        k, v = k.strip().lower().decode("latin-1"), v.strip().decode("latin-1")
        # A repeated header is one list (RFC 9110 §5.3): e.g. a Bearer and a DPoP challenge.
        headers[k] = f"{headers[k]}, {v}" if k in headers else v
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return Resp(status, headers, body)


def build(method, target, headers=(), body=None):
    target = target if isinstance(target, bytes) else target.encode()
    lines = [method.encode() + b" " + target + b" HTTP/1.1", f"Host: {HOST}:{PORT}".encode(), b"Connection: close"]
    for k, v in headers:
        lines.append((k if isinstance(k, bytes) else k.encode()) + b": " + (v if isinstance(v, bytes) else v.encode()))
    if body is not None:
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def send(method, target, headers=(), body=None, timeout=30.0):
    global probes
    probes += 1
    body = body.encode() if isinstance(body, str) else body
    try:
        r = raw(build(method, target, headers, body), timeout)
    except OSError as e:
        statuses["no answer"] += 1
        return Resp(0, {}, str(e).encode())
    statuses[f"{r.status // 100}xx" if r else "closed"] += 1
    return r or Resp(0, {}, b"connection closed without an answer")


FORM = ("Content-Type", "application/x-www-form-urlencoded")
JSON = ("Content-Type", "application/json")


def form(d):
    return urllib.parse.urlencode(d)


# ------------------------------------------------------------------ what a refusal looks like
OAUTH_JSON = {"/token", "/par", "/revoke", "/introspect"}


def refused(what, r, kind="4xx"):
    """kind: 4xx (any client error), oauth (JSON body with `error`), bearer (401 with a
    WWW-Authenticate challenge), page (an error page or an error redirect to the registered
    redirect URI only), closed_ok (as 4xx, or the connection closed for a message too large)."""
    if r.status == 0 and kind == "closed_ok":
        return
    if r.status >= 500 or r.status == 0:
        fail(what, f"status {r.status}: {r.body[:200]!r}")
        return
    if r.status in (413, 414, 431):
        return  # too large: refused by the transport limits before any endpoint reads it
    if kind == "page" and r.status in (302, 303):
        loc = r.header("location") or ""
        if not loc.startswith(RP_CB) or "error=" not in loc:
            fail(what, f"redirected to {loc[:120]!r}: only an error redirect to the registered URI is allowed")
        return
    if not 400 <= r.status < 500:
        fail(what, f"status {r.status}, expected a refusal")
        return
    if kind == "oauth":
        j = r.json()
        if not isinstance(j, dict) or not isinstance(j.get("error"), str):
            fail(what, f"{r.status} without an OAuth error body: {r.body[:120]!r}")
    if kind == "bearer" and (r.status != 401 or "bearer" not in (r.header("www-authenticate") or "").lower()):
        # 400 invalid_request is also a bearer error (RFC 6750 §3.1) as long as it is challenged.
        if not (r.status == 400 and r.header("www-authenticate")):
            fail(what, f"{r.status} without a Bearer challenge ({r.header('www-authenticate')!r})")


# ------------------------------------------------------------------ JWT forgery
def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(header, claims, key=None):
    head = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())
    if key is None:
        return head + "."
    return head + "." + b64u(hmac.new(key, head.encode(), hashlib.sha256).digest())


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def der_int(b):
    return der(0x02, b"\x00" + b if b[0] & 0x80 else b)


def rsa_public_pem(n, e):
    """SubjectPublicKeyInfo of an RSA JWK: the bytes an HS256/RS256 confusion attack keys with."""
    rsa_key = der(0x30, der_int(n) + der_int(e))
    alg = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    spki = der(0x30, alg + der(0x03, b"\x00" + rsa_key))
    body = base64.encodebytes(spki).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n").encode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def forged_jwts(issuer, jwks, iss, aud, extra):
    """(name, token) pairs no verifier may accept."""
    now = int(time.time())
    claims = {"iss": iss, "sub": iss, "aud": aud, "exp": now + 120, "iat": now, "jti": os.urandom(8).hex(), **extra}
    out = [("alg none", jwt({"alg": "none", "typ": "JWT"}, claims)),
           ("alg None", jwt({"alg": "None"}, claims)),
           ("alg empty", jwt({"alg": ""}, claims))]
    for k in jwks["keys"]:
        keys = [json.dumps(k).encode(), json.dumps(jwks).encode()]
        if k.get("kty") == "RSA":
            pem = rsa_public_pem(b64u_dec(k["n"]), b64u_dec(k["e"]))
            keys += [pem, pem.strip(), b64u_dec(k["n"])]
        elif k.get("kty") == "EC":
            keys.append(b"\x04" + b64u_dec(k["x"]) + b64u_dec(k["y"]))
        elif k.get("kty") == "OKP":
            keys.append(b64u_dec(k["x"]))
        for i, key in enumerate(keys):
            out.append((f"HS256 with our {k['kty']} public key #{i}", jwt({"alg": "HS256", "kid": k["kid"]}, claims, key)))
        out.append((f"{k.get('alg', 'ES256')} real kid, garbage signature",
                    jwt({"alg": k.get("alg", "ES256"), "kid": k["kid"]}, claims)[:-1] + "." + b64u(os.urandom(64))))
    out += [("wrong kid", jwt({"alg": "ES256", "kid": "no-such-key"}, claims)[:-1] + "." + b64u(os.urandom(64))),
            ("huge kid", jwt({"alg": "ES256", "kid": "k" * 20000}, claims)[:-1] + "." + b64u(os.urandom(64))),
            ("kid path", jwt({"alg": "ES256", "kid": "../../../../etc/passwd"}, claims)[:-1] + ".AAAA"),
            ("jku/x5u", jwt({"alg": "RS256", "jku": "http://127.0.0.1:1/jwks", "x5u": "http://127.0.0.1:1/x"}, claims)),
            ("embedded jwk", jwt({"alg": "ES256", "jwk": jwks["keys"][0]}, claims)[:-1] + ".AAAA"),
            ("crit", jwt({"alg": "ES256", "crit": ["exp"], "exp": 1}, claims)[:-1] + ".AAAA"),
            ("header not an object", b64u(b"[1,2]") + "." + b64u(b"{}") + ".AAAA"),
            ("nested header", b64u(b"{\"alg\":" + b"[" * 5000 + b"]" * 5000 + b"}") + "." + b64u(b"{}") + ".AAAA"),
            ("invalid utf-8 header", b64u(b"{\"alg\":\"\xff\xfe\"}") + "." + b64u(b"{}") + ".AAAA"),
            ("five parts (JWE shape)", "a.b.c.d.e"),
            ("not base64", "!!!.???.***"),
            ("huge token", "A" * 200_000 + ".B.C")]
    return out


# ------------------------------------------------------------------ server
def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_server(run):
    global HOST, PORT
    ports = free_ports(5)
    HOST, PORT = "127.0.0.1", ports[0]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "XACTHUC_DATABASE_URL", "XACTHUC_REDIS_URL")}
    env.update(XACTHUC_PORT=str(ports[0]), XACTHUC_MOCK_VNEID_PORT=str(ports[1]), XACTHUC_MOCK_POPULATION_PORT=str(ports[2]),
               XACTHUC_MOCK_GOV_CA_PORT=str(ports[3]), XACTHUC_PORTAL_PORT=str(ports[4]),
               XACTHUC_ISSUER=f"http://localhost:{ports[0]}", XACTHUC_DATA_DIR=f"{run}/data",
               XACTHUC_KEYS_DIR=f"{run}/keys", XACTHUC_DEV_CITIZENS="50")

    def cli(*args):
        p = subprocess.run([BIN, "clients", "add", *args], env=env, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"hostile: clients add failed: {p.stderr}")
        m = re.search(r"client_secret:\s*(\S+)", p.stdout)
        return m.group(1) if m else None

    # The public EC key of RFC 7515 A.3: the campaign never signs with it, it only needs a
    # private_key_jwt client whose keys the forged assertions and request objects must not pass.
    jwks_file = f"{run}/rp.jwks.json"
    with open(jwks_file, "w") as f:
        json.dump({"keys": [{"kty": "EC", "crv": "P-256", "kid": "rp-1", "use": "sig", "alg": "ES256",
                             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}, f)
    secrets = {
        "admin": cli("--id", "hostile-admin", "--name", "Hostile admin", "--auth-method", "client_secret_basic",
                     "--scope", "admin scim.read scim.write", "--grants", "client_credentials"),
        "rp": cli("--id", "hostile-rp", "--name", "Hostile RP", "--redirect-uri", RP_CB,
                  "--post-logout-redirect-uri", "https://rp.hostile.example/bye", "--auth-method", "client_secret_basic",
                  "--scope", "openid profile"),
    }
    cli("--id", "hostile-jwt", "--name", "Hostile JWT RP", "--redirect-uri", RP_CB, "--auth-method", "private_key_jwt",
        "--jwks-file", jwks_file, "--scope", "openid profile", "--grants", "authorization_code,client_credentials")
    os.makedirs(OUT, exist_ok=True)
    log = open(f"{OUT}/server.log", "w")
    proc = subprocess.Popen([BIN, "dev"], env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        if proc.poll() is not None:
            sys.exit("hostile: xacthuc exited at start; see " + f"{OUT}/server.log")
        try:
            r = raw(build("GET", "/readyz"), 2)
            if r and r.status == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        proc.kill()
        sys.exit("hostile: xacthuc did not become ready")
    return proc, secrets, env["XACTHUC_ISSUER"]


# ------------------------------------------------------------------ the campaign
def authorize_query(**over):
    p = {"client_id": "hostile-rp", "redirect_uri": RP_CB, "response_type": "code", "scope": "openid",
         "state": "s", "nonce": "n", "code_challenge": "E9Melhoa2OwvFrEMTJguCQyVdPMlWCvpaR4ZvBETzVNw",
         "code_challenge_method": "S256"}
    p.update(over)
    return "/authorize?" + form({k: v for k, v in p.items() if v is not None})


def basic(cid, secret):
    return ("Authorization", "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode())


def oversized():
    print("-- oversized bodies and headers", flush=True)
    big = b"a=" + b"x" * (4 * 1024 * 1024)
    for path in ["/token", "/par", "/introspect", "/revoke", "/login", "/consent", "/logout", "/admin/api/units",
                 "/scim/v2/Users", "/api/population/verify", "/api/signatures/verify"]:
        ct = JSON if path.startswith(("/admin/api", "/scim", "/api/")) else FORM
        refused(f"4 MiB body to {path}", send("POST", path, [ct], big), "closed_ok")
    # A Content-Length announcing far more than is sent: refused from the header alone.
    r = raw(build("POST", "/token", [FORM, ("Content-Length", str(10**12))]), 10)
    statuses[f"{r.status // 100}xx" if r else "closed"] += 1
    refused("Content-Length 10^12", r or Resp(0, {}, b""), "closed_ok")
    refused("64 KiB header", send("GET", "/authorize", [("X-Big", "b" * 65536)]), "closed_ok")
    refused("1 MiB header", send("GET", "/authorize", [("X-Big", "b" * (1 << 20))]), "closed_ok")
    refused("2,000 headers", send("GET", "/authorize", [(f"X-H{i}", "v") for i in range(2000)]), "closed_ok")
    refused("64 KiB cookie", send("GET", "/account", [("Cookie", "a=" + "c" * 65536)]), "closed_ok")
    refused("1 MiB query", send("GET", "/authorize?state=" + "q" * (1 << 20)), "closed_ok")
    refused("long parameter", send("GET", authorize_query(state="s" * 6000)), "page")
    refused("10,000 parameters", send("POST", "/token", [FORM], "&".join(f"p{i}=v" for i in range(10000))), "oauth")


def invalid_utf8(admin_token):
    print("-- invalid UTF-8", flush=True)
    bad = [b"%FF%FE", b"%C0%AF", b"%ED%A0%80", b"%F4%90%80%80"]
    for b in bad:
        q = b"/authorize?client_id=hostile-rp&redirect_uri=" + urllib.parse.quote(RP_CB, safe="").encode() + b"&state=" + b
        refused(f"state {b!r}", send("GET", q), "page")
        refused(f"client_id {b!r}", send("GET", b"/authorize?client_id=" + b + b"&response_type=code"), "page")
        refused(f"form {b!r} to /token", send("POST", "/token", [FORM], b"grant_type=" + b + b"&code=" + b), "oauth")
        refused(f"form {b!r} to /par", send("POST", "/par", [FORM], b"client_id=" + b), "oauth")
        refused(f"form {b!r} to /login", send("POST", "/login", [FORM], b"tx=" + b), "4xx")
    raw_bytes = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x00"]
    for b in raw_bytes:
        refused(f"raw {b!r} in path", send("GET", b"/authorize/" + b), "closed_ok")
        refused(f"raw {b!r} in query", send("GET", b"/authorize?client_id=" + b), "closed_ok")
        refused(f"raw {b!r} in form", send("POST", "/token", [FORM], b"grant_type=" + b), "oauth")
        refused(f"raw {b!r} in Authorization", send("GET", "/userinfo", [(b"Authorization", b"Bearer " + b)]), "closed_ok")
        refused(f"raw {b!r} in Basic", send("POST", "/token", [FORM, (b"Authorization", b"Basic " + base64.b64encode(b + b":" + b))],
                                              "grant_type=client_credentials"), "oauth")
        refused(f"raw {b!r} in cookie", send("GET", "/account", [(b"Cookie", b"xacthuc_session=" + b)]), "closed_ok")
        auth = [JSON, ("Authorization", f"Bearer {admin_token}")]
        refused(f"JSON with {b!r} to admin API", send("POST", "/admin/api/units", auth, b'{"code":"' + b + b'","name":"x","kind":"province"}'))
        scim = [("Content-Type", "application/scim+json"), ("Authorization", f"Bearer {admin_token}")]
        refused(f"JSON with {b!r} to SCIM", send("POST", "/scim/v2/Users", scim, b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' + b + b'"}'))


def duplicates(secrets):
    print("-- duplicate parameters, query and body", flush=True)
    refused("client_id twice", send("GET", authorize_query() + "&client_id=hostile-rp"), "page")
    refused("redirect_uri twice", send("GET", authorize_query() + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"), "page")
    refused("scope twice", send("GET", authorize_query() + "&scope=openid%20profile"), "page")
    for path in ["/token", "/par", "/revoke", "/introspect"]:
        h = [FORM, basic("hostile-rp", secrets["rp"])]
        refused(f"grant_type twice at {path}", send("POST", path, h, "grant_type=client_credentials&grant_type=authorization_code&token=x"), "oauth")
        refused(f"client_secret in body and Basic at {path}",
                send("POST", path, h, form({"grant_type": "client_credentials", "client_id": "hostile-rp",
                                            "client_secret": secrets["rp"], "token": "x"})), "oauth")
        refused(f"query and body at {path}",
                send("POST", path + "?grant_type=client_credentials&client_id=hostile-admin", [FORM], "grant_type=authorization_code&code=x"), "oauth")
    # Parameters in the query of a POST /authorize (form post): refused or read from one place only.
    r = send("POST", authorize_query(client_id="other"), [FORM], authorize_query()[11:])
    if r.status >= 500 or r.status == 0:
        fail("authorize query and body", f"status {r.status}")


def jwt_attacks(issuer, secrets):
    print("-- forged JWTs", flush=True)
    jwks = json.loads(send("GET", "/jwks").body)
    if not jwks.get("keys"):
        fail("jwks", "no keys published")
        return
    # As client assertions (private_key_jwt) at every endpoint that authenticates clients.
    for name, t in forged_jwts(issuer, jwks, "hostile-jwt", issuer, {}):
        for path in ["/token", "/par", "/introspect", "/revoke"]:
            body = form({"grant_type": "client_credentials", "client_id": "hostile-jwt", "token": "x",
                         "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                         "client_assertion": t, "response_type": "code", "redirect_uri": RP_CB, "scope": "openid",
                         "code_challenge": "E9Melhoa2OwvFrEMTJguCQyVdPMlWCvpaR4ZvBETzVNw", "code_challenge_method": "S256"})
            r = send("POST", path, [FORM], body)
            refused(f"client assertion ({name}) at {path}", r, "oauth")
            if r.status == 400 or r.status == 401:
                err = (r.json() or {}).get("error")
                if err not in ("invalid_client", "invalid_request"):
                    fail(f"client assertion ({name}) at {path}", f"error {err!r}, expected invalid_client")
    # As request objects, at /authorize and inside PAR.
    ro = {"client_id": "hostile-jwt", "response_type": "code", "redirect_uri": RP_CB, "scope": "openid",
          "code_challenge": "E9Melhoa2OwvFrEMTJguCQyVdPMlWCvpaR4ZvBETzVNw", "code_challenge_method": "S256"}
    for name, t in forged_jwts(issuer, jwks, "hostile-jwt", issuer, ro):
        if len(t) < 60000:
            r = send("GET", "/authorize?" + form({"client_id": "hostile-jwt", "request": t}))
            refused(f"request object ({name}) at /authorize", r, "page")
            if r.status in (302, 303) and "code=" in (r.header("location") or ""):
                fail(f"request object ({name})", "a code was issued")
        refused(f"request object ({name}) at /par", send("POST", "/par", [FORM], form({"client_id": "hostile-jwt", "request": t})), "oauth")
    # Our own tokens forged: id_token_hint, bearer tokens, logout hints.
    for name, t in forged_jwts(issuer, jwks, issuer, "hostile-rp", {"sub": "someone", "scope": "openid admin scim.read scim.write"}):
        if len(t) < 60000:
            refused(f"id_token_hint ({name}) at /authorize", send("GET", authorize_query(prompt="none", id_token_hint=t)), "page")
            r = send("GET", "/logout?" + form({"id_token_hint": t, "post_logout_redirect_uri": "https://evil.example/"}))
            if r.status >= 500 or r.status == 0 or "evil.example" in (r.header("location") or ""):
                fail(f"id_token_hint ({name}) at /logout", f"status {r.status} location {r.header('location')!r}")
        for path in ["/userinfo", "/admin/api/units", "/scim/v2/Users", "/admin/api/openapi.json"]:
            r = send("GET", path, [("Authorization", f"Bearer {t}")])
            if path == "/admin/api/openapi.json":
                if r.status >= 500 or r.status == 0:
                    fail(f"bearer ({name}) at {path}", f"status {r.status}")
                continue
            refused(f"bearer ({name}) at {path}", r, "bearer" if path == "/userinfo" else "4xx")
        for path in ["/introspect", "/revoke"]:
            refused(f"forged token ({name}) at {path} unauthenticated", send("POST", path, [FORM], form({"token": t})), "oauth")
        r = send("POST", "/introspect", [FORM, basic("hostile-rp", secrets["rp"])], form({"token": t}))
        if r.status == 200:
            if (r.json() or {}).get("active") is not False:
                fail(f"forged token ({name}) introspected", f"body {r.body[:100]!r}")
        else:
            refused(f"forged token ({name}) introspected", r, "oauth")


def nested_json(admin_token):
    print("-- nested and huge JSON", flush=True)
    auth = [("Authorization", f"Bearer {admin_token}")]
    scim_ct = ("Content-Type", "application/scim+json")
    deep = [b"[" * 100000 + b"]" * 100000, b'{"a":' * 50000 + b"1" + b"}" * 50000,
            b'{"code":' + b"[" * 20000 + b"]" * 20000 + b"}"]
    wide = b'{"code":"W","name":"' + b"n" * 60000 + b'","kind":"province"}'
    many = b"[" + b",".join([b"{}"] * 30000) + b"]"
    keys = b"{" + b",".join(b'"k%d":1' % i for i in range(6000)) + b"}"
    for body in deep + [wide, many, keys, b"", b"null", b"1e999999", b'"' + b"\\u0000" * 10000 + b'"', b"{" * 10]:
        for path in ["/admin/api/units", "/admin/api/officers", "/admin/api/clients"]:
            refused(f"JSON {body[:12]!r}... ({len(body)} B) to {path}", send("POST", path, auth + [JSON], body), "closed_ok")
        refused(f"JSON {body[:12]!r}... to SCIM Users", send("POST", "/scim/v2/Users", auth + [scim_ct], body), "closed_ok")
        refused(f"JSON {body[:12]!r}... to SCIM Bulk", send("POST", "/scim/v2/Bulk", auth + [scim_ct], body), "closed_ok")
        refused(f"JSON {body[:12]!r}... to SCIM PATCH", send("PATCH", "/scim/v2/Users/x", auth + [scim_ct], body), "closed_ok")
    flt = "/scim/v2/Users?filter=" + urllib.parse.quote("(" * 3000 + 'userName eq "a"' + ")" * 3000)
    refused("deeply nested SCIM filter", send("GET", flt, auth), "closed_ok")
    flt = "/scim/v2/Users?filter=" + urllib.parse.quote(" or ".join(f'userName eq "u{i}"' for i in range(3000)))
    refused("3,000-term SCIM filter", send("GET", flt, auth), "closed_ok")
    claims = urllib.parse.quote('{"id_token":' * 3000 + "{}" + "}" * 3000)
    refused("nested claims parameter", send("GET", authorize_query() + "&claims=" + claims), "page")


def traversal():
    print("-- path traversal", flush=True)
    paths = ["/assets/../../../../etc/passwd", "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
             "/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/assets/....//....//etc/passwd",
             "/assets/..%5c..%5c..%5cCargo.toml", "/assets/%252e%252e/Cargo.toml", "/assets/portal.css%00.js",
             "/assets//etc/passwd", "/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/.well-known/../../Cargo.toml",
             "/scim/v2/Users/..%2f..%2f..%2fadmin", "/admin/api/units/..%2f..%2fclients", "/admin/api/officers/%2e%2e",
             "/keys/", "/data/", "/.git/config", "/admin/api/certificates/..%2f..%2fetc%2fpasswd",
             "//etc/passwd", "/\\..\\..\\etc\\passwd"]
    for p in paths:
        r = send("GET", p)
        if r.status >= 500 or r.status == 0:
            fail(f"traversal {p}", f"status {r.status}")
        elif b"root:" in r.body or b"[package]" in r.body or b"PRIVATE KEY" in r.body or b"[core]" in r.body:
            fail(f"traversal {p}", "a file from outside the assets was served")
        elif r.status < 400:
            fail(f"traversal {p}", f"status {r.status}, expected a refusal")


def slowloris():
    print(f"-- slow clients: {SLOW_CLIENTS} connections sending a header byte every 2 s", flush=True)
    socks, dropped_at, slow_answers = [], {}, collections.Counter()
    for _ in range(SLOW_CLIENTS):
        s = socket.create_connection((HOST, PORT), timeout=5)
        s.sendall(b"GET /authorize?client_id=hostile-rp HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    # A slow body too: headers complete, the body never comes.
    for _ in range(8):
        s = socket.create_connection((HOST, PORT), timeout=5)
        s.sendall(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant")
        socks.append(s)
    t0, served, slow_service = time.time(), 0, 0.0
    while time.time() - t0 < SLOW_DEADLINE and len(dropped_at) < len(socks):
        for i, s in enumerate(socks):
            if i in dropped_at:
                continue
            try:
                s.sendall(b"X")
            except OSError:
                dropped_at[i] = time.time() - t0
        t1 = time.time()
        r = send("GET", "/.well-known/openid-configuration", timeout=10)
        slow_service = max(slow_service, time.time() - t1)
        if r.status == 200:
            served += 1
        else:
            fail("serving others during slowloris", f"status {r.status}")
        time.sleep(2)
    for i, s in enumerate(socks):
        if i not in dropped_at:
            # The server may have closed without our write failing yet: a read tells.
            s.settimeout(0.5)
            try:
                answer = s.recv(1024)
                dropped_at[i] = time.time() - t0
                if answer.startswith(b"HTTP/1.1 "):
                    slow_answers[answer[9:12].decode()] += 1  # answered, then closed
            except (socket.timeout, BlockingIOError):
                pass
            except OSError:
                dropped_at[i] = time.time() - t0
        s.close()
    print(f"  {served} requests served meanwhile (slowest {slow_service:.2f} s); "
          f"{len(dropped_at)}/{len(socks)} slow connections dropped within {SLOW_DEADLINE} s", flush=True)
    if len(dropped_at) < len(socks):
        fail("slowloris", f"{len(socks) - len(dropped_at)} slow connections still open after {SLOW_DEADLINE} s")
    if slow_service > 5:
        fail("slowloris", f"a normal request took {slow_service:.1f} s while slow clients were connected")
    if slow_answers:
        print(f"  answers to the slow clients before closing: {dict(slow_answers)}", flush=True)
    return served, len(dropped_at), len(socks), dict(slow_answers)


def flood(pid):
    global SOURCE
    print(f"-- flood: {FLOOD} anonymous authorization requests", flush=True)
    SOURCE = "127.0.0.2"
    send("GET", authorize_query())  # warm-up
    before = rss_kib(pid)
    peak = before
    by_status = collections.Counter()

    def one(i):
        return send("GET", authorize_query(state=f"s{i}", nonce=f"n{i}"), timeout=30).status

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
        for i, st in enumerate(ex.map(one, range(FLOOD))):
            by_status[st] += 1
            if i % 250 == 0:
                peak = max(peak, rss_kib(pid))
    peak = max(peak, rss_kib(pid))
    SOURCE = None
    grew = (peak - before) / 1024
    print(f"  statuses {dict(by_status)}; RSS {before / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB (+{grew:.1f} MiB)", flush=True)
    for st, n in by_status.items():
        if st >= 500 or st == 0:
            fail("flood", f"{n} answers with status {st}")
        elif st not in (200, 302, 303, 429):
            fail("flood", f"{n} answers with unexpected status {st}")
    if not by_status[429]:
        fail("flood", "no 429: the per-address rate limit did not hold against one address")
    if grew > FLOOD_RSS_LIMIT_MB:
        fail("flood", f"RSS grew by {grew:.1f} MiB (limit {FLOOD_RSS_LIMIT_MB} MiB)")
    return before, peak, by_status


def main():
    run = tempfile.mkdtemp(prefix="xacthuc-hostile.")
    proc = None
    try:
        proc, secrets, issuer = start_server(run)
        r = send("POST", "/token", [FORM, basic("hostile-admin", secrets["admin"])],
                 form({"grant_type": "client_credentials", "scope": "admin scim.read scim.write"}))
        admin_token = (r.json() or {}).get("access_token")
        if not admin_token:
            sys.exit(f"hostile: no admin token: {r.status} {r.body[:200]!r}")
        t0 = time.time()
        # First, on a fresh heap, so that RSS growth is the flood's own.
        fl = flood(proc.pid)
        oversized()
        invalid_utf8(admin_token)
        duplicates(secrets)
        jwt_attacks(issuer, secrets)
        nested_json(admin_token)
        traversal()
        slow = slowloris()
        if proc.poll() is not None:
            fail("server", f"exited during the campaign with {proc.returncode}")
        r = send("GET", "/readyz")
        if r.status != 200:
            fail("server", f"not ready after the campaign ({r.status})")
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(run, ignore_errors=True)
    log = open(f"{OUT}/server.log", errors="replace").read()
    panics = [line for line in log.splitlines() if "panic" in line.lower()]
    if panics:
        fail("server log", f"{len(panics)} panic lines, first: {panics[0][:200]}")
    summary = {"requests": sum(statuses.values()), "by_class": dict(sorted(statuses.items())),
               "flood": {"requests": FLOOD, "rss_before_mib": round(fl[0] / 1024, 1), "rss_peak_mib": round(fl[1] / 1024, 1),
                         "statuses": {str(k): v for k, v in sorted(fl[2].items())}},
               "slowloris": {"served_meanwhile": slow[0], "dropped": slow[1], "slow_connections": slow[2],
                             "answers_before_closing": slow[3]},
               "seconds": round(time.time() - t0), "failures": len(failures)}
    with open(f"{OUT}/summary.json", "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    print(f"{summary['requests']} requests: " + ", ".join(f"{k} {v}" for k, v in summary["by_class"].items()))
    print(f"{len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
