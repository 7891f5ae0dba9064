"""A GitHub App's key for the tests, made here, and the stand-in GitHub checking the App's JWT signatures."""
from __future__ import annotations

import json
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.fake_github import FakeGitHub
from tests.support.gitrepos import Remote

APP_ID = 314


class AppCheckingGitHub(FakeGitHub):
    """The stand-in, and GitHub's check of a JWT's signature against the App's public key."""

    def __init__(self, remote: Remote, public_key: rsa.RSAPublicKey, **options) -> None:
        super().__init__(remote, app_id=APP_ID, **options)
        self._public_key = public_key
        self.refused_signatures = 0

    def answer(self, method: str, target: str, headers: dict[str, str], raw_body: bytes) -> tuple[int, bytes, dict]:
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credential.count(".") == 2:
            try:
                jwt.decode(credential, self._public_key, algorithms=["RS256"], options={"verify_exp": False})
            except jwt.InvalidSignatureError:
                self.refused_signatures += 1
                body = {"message": "A JSON web token could not be decoded",
                        "documentation_url": "https://docs.github.com/rest"}
                return 401, json.dumps(body).encode(), {"content-type": "application/json; charset=utf-8"}
        return super().answer(method, target, headers, raw_body)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode("ascii")


def write_key(path: Path, key: rsa.RSAPrivateKey | None = None) -> Path:
    """A GitHub App's private key file, as GitHub gives it (PEM, PKCS#1)."""
    path.write_text(pem(key or new_key()))
    return path
