import os
import sys

# The dev issuer is http://localhost; Authlib refuses plain HTTP unless told it is a test.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
sys.path.insert(0, os.path.dirname(__file__))
