"""The relying party's back-channel logout endpoint: records every logout token POSTed to it
(OIDC Back-Channel Logout 1.0 §2.5) and answers 200 as the spec asks of a receiver."""

import http.server
import threading
import time
from urllib.parse import parse_qs, urlparse

from rp import RP, jose_header

_LOCK = threading.Condition()
_TOKENS = []  # (token, content type, unverified claims)


def _claims(token):
    import base64
    import json

    try:
        jose_header(token)
        return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    except Exception:  # noqa: BLE001 - recorded anyway; the module fails on it
        return {}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode(errors="replace")
        token = parse_qs(body).get("logout_token", [""])[0]
        with _LOCK:
            _TOKENS.append((token, self.headers.get("content-type", ""), _claims(token)))
            _LOCK.notify_all()
        self.send_response(200)
        self.send_header("cache-control", "no-store")
        self.end_headers()

    def log_message(self, *args):
        pass


def start():
    port = urlparse(RP).port
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def wait_for(predicate, timeout):
    end = time.time() + timeout
    with _LOCK:
        while True:
            for token, _, claims in _TOKENS:
                if predicate(claims):
                    return token
            left = end - time.time()
            if left <= 0:
                return None
            _LOCK.wait(left)


def content_type_of(token):
    with _LOCK:
        return next((ct for t, ct, _ in _TOKENS if t == token), "")
