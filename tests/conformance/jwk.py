"""JWK helpers with no other dependency than Authlib, so the run script can make the clients'
keys with them before anything else is set up."""

import base64


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def ec_jwk(key, private=False):
    """An Authlib P-256 key as a JWK with full-length members. Authlib drops leading zero bytes
    (about one key in 128), which RFC 7518 §6.2.1.2 forbids and a strict server rightly refuses."""
    full = lambda n: b64url(n.to_bytes(32, "big"))  # noqa: E731
    d = key.as_dict(is_private=private)
    nums = key.get_public_key().public_numbers()
    d.update(x=full(nums.x), y=full(nums.y))
    if private:
        d["d"] = full(key.get_private_key().private_numbers().private_value)
    return d
