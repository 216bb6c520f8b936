"""Schemathesis hooks for the admin API run (loaded through SCHEMATHESIS_HOOKS).

Certificate registration takes the certificate itself as the body (PEM text or DER bytes),
declared as application/x-pem-file; Schemathesis has no serializer for that media type, so
generated bodies are sent as their bytes, the way a client uploads a file.
"""

import schemathesis


@schemathesis.serializer("application/x-pem-file")
def pem_file(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")
