"""core/rasa_api.py calls Rasa's HTTP API with a short-lived HS256 JWT in the Authorization header,
never with a token in the URL; the JWT is what Rasa 3.6 (sanic-jwt and PyJWT, in .venv-rasa) accepts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import time
from typing import Any

import pytest

from core import rasa_api
from core.settings import PROJECT_ROOT, Settings
from tests.console.fake_rasa import FakeRasa

SECRET = "unit-test-secret-0123456789abcdef"


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def jwt_claims(authorization: str, secret: str) -> dict[str, Any]:
    """The claims of `Bearer <jwt>` after checking its HS256 signature with `secret` (independently of
    core/rasa_api.py); an AssertionError if the header or the signature is wrong."""
    scheme, _, token = authorization.partition(" ")
    assert scheme == "Bearer", authorization
    header, payload, signature = token.split(".")
    assert json.loads(_unb64(header)) == {"alg": "HS256", "typ": "JWT"}
    expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(_unb64(signature), expected), "bad signature"
    return json.loads(_unb64(payload))


def test_the_jwt_is_short_lived_and_names_an_admin():
    claims = jwt_claims(f"Bearer {rasa_api.api_jwt(SECRET, now=1_800_000_000)}", SECRET)
    assert claims == {"user": {"username": "meso-staff", "role": "admin"}, "iat": 1_800_000_000, "exp": 1_800_000_060}
    with pytest.raises(AssertionError, match="bad signature"):
        jwt_claims(f"Bearer {rasa_api.api_jwt('another-secret-0123456789')}", SECRET)


def test_rasas_own_jwt_library_accepts_it():
    """PyJWT in the Rasa environment (what sanic-jwt calls) decodes it with the secret and refuses it with
    another one or once expired."""
    python = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
    if not python.exists():
        pytest.skip("no .venv-rasa")
    check = (
        "import jwt, sys\n"
        "t, s = sys.argv[1], sys.argv[2]\n"
        "print(jwt.decode(t, s, algorithms=['HS256'])['user']['role'])\n"
        "for bad in (lambda: jwt.decode(t, s + 'x', algorithms=['HS256']),\n"
        "            lambda: jwt.decode(sys.argv[3], s, algorithms=['HS256'])):\n"
        "    try:\n        bad()\n        print('accepted')\n    except jwt.InvalidTokenError:\n        print('refused')\n"
    )
    expired = rasa_api.api_jwt(SECRET, now=time.time() - 3600)
    done = subprocess.run(
        [str(python), "-c", check, rasa_api.api_jwt(SECRET), SECRET, expired],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["admin", "refused", "refused"]


def test_hand_back_sends_the_jwt_in_a_header_and_no_token_in_the_url():
    fake = FakeRasa()
    url = fake.start()
    try:
        rasa_api.hand_back("web-abc", Settings(rasa_url=url, rasa_token=SECRET))
    finally:
        fake.stop()
    (call,) = fake.received
    assert call.path == "/conversations/web-abc/tracker/events" and "token" not in call.query
    assert SECRET not in json.dumps(call.query) + call.path
    claims = jwt_claims(call.headers["Authorization"], SECRET)
    assert claims["exp"] - time.time() <= rasa_api.JWT_SECONDS + 1


def test_without_a_secret_nothing_is_sent():
    with pytest.raises(rasa_api.RasaApiError, match="MESO_RASA_TOKEN"):
        rasa_api.hand_back("web-abc", Settings(rasa_url="http://127.0.0.1:9", rasa_token=None))
