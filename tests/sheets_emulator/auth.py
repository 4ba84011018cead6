"""OAuth for the emulator: service-account keys it issues, the JWT-bearer token grant, scopes.

The emulator plays Google's token endpoint: google-auth signs a JWT assertion with the key's
private key (RS256) and posts it to ``token_uri``; we verify the signature against the public
key we generated, check issuer, audience and expiry, and hand out an opaque bearer token that
remembers its scopes. Nothing is mocked on the client side.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as gexc
from google.auth import jwt

SCOPE_SHEETS = "https://www.googleapis.com/auth/spreadsheets"
SCOPE_SHEETS_RO = "https://www.googleapis.com/auth/spreadsheets.readonly"
SCOPE_DRIVE = "https://www.googleapis.com/auth/drive"
SCOPE_DRIVE_RO = "https://www.googleapis.com/auth/drive.readonly"
SCOPE_DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
SCOPE_CLOUD = "https://www.googleapis.com/auth/cloud-platform"

READ_SCOPES = {SCOPE_SHEETS, SCOPE_SHEETS_RO, SCOPE_DRIVE, SCOPE_DRIVE_RO, SCOPE_DRIVE_FILE, SCOPE_CLOUD}
WRITE_SCOPES = {SCOPE_SHEETS, SCOPE_DRIVE, SCOPE_DRIVE_FILE, SCOPE_CLOUD}
DRIVE_READ_SCOPES = {SCOPE_DRIVE, SCOPE_DRIVE_RO, SCOPE_DRIVE_FILE, SCOPE_CLOUD}
DRIVE_WRITE_SCOPES = {SCOPE_DRIVE, SCOPE_DRIVE_FILE, SCOPE_CLOUD}

TOKEN_LIFETIME = 3600

# Audiences Google's token endpoint accepts. google-auth always signs for the first one, whatever
# token_uri says, so the emulator accepts these plus its own token_uri.
GOOGLE_TOKEN_AUDIENCES = (
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
    "https://accounts.google.com/o/oauth2/token",
)


class TokenError(Exception):
    """A token request Google would refuse; carries the OAuth error body."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.status = status
        self.payload = {"error": error, "error_description": description}


@dataclass
class Grant:
    token: str
    client_email: str
    scopes: frozenset[str]
    expires: float


@dataclass
class Authority:
    """Keys the emulator issued and tokens it granted."""

    token_uri: str
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # key id -> (client_email, public PEM)
    grants: dict[str, Grant] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_key(self, client_email: str = "followup-tests@emulator.iam.gserviceaccount.com",
                project_id: str = "emulator") -> dict[str, Any]:
        """A fresh RSA key pair; returns a service-account key (JSON dict) trusted by this emulator."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        key_id = secrets.token_hex(20)
        with self.lock:
            self.keys[key_id] = (client_email, public)
        return {
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": client_email,
            "client_id": str(secrets.randbelow(10**20)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "",
            "universe_domain": "googleapis.com",
        }

    def write_key(self, path: str | Path, **kwargs: Any) -> Path:
        """Write a service-account key file (as downloaded from the console) and return its path."""
        target = Path(path)
        target.write_text(json.dumps(self.new_key(**kwargs), indent=2), encoding="utf-8")
        return target

    def exchange(self, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint: JWT-bearer grant -> access token (RFC 7523)."""
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            raise TokenError("unsupported_grant_type", "Invalid grant_type: " + form.get("grant_type", ""))
        assertion = form.get("assertion", "")
        try:
            header = jwt.decode_header(assertion)
        except (ValueError, gexc.GoogleAuthError):
            raise TokenError("invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.") from None
        kid = header.get("kid", "")
        with self.lock:
            known = self.keys.get(kid)
        if known is None:
            raise TokenError("invalid_grant", "Invalid JWT Signature.")
        email, public = known
        try:
            claims = jwt.decode(assertion, certs={kid: public}, audience=[self.token_uri, *GOOGLE_TOKEN_AUDIENCES],
                                clock_skew_in_seconds=10)
        except (ValueError, gexc.GoogleAuthError) as exc:
            text = str(exc)
            if "audience" in text.lower():
                raise TokenError("invalid_grant", "Invalid JWT: Failed audience check.") from None
            if "expired" in text.lower() or "early" in text.lower():
                raise TokenError("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.") from None
            raise TokenError("invalid_grant", "Invalid JWT Signature.") from None
        if claims.get("iss") != email:
            raise TokenError("invalid_grant", "Invalid JWT: issuer does not match the key's client_email.")
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            raise TokenError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = "ya29.emu-" + secrets.token_urlsafe(32)
        grant = Grant(token, email, scopes, time.time() + TOKEN_LIFETIME)
        with self.lock:
            self.grants[token] = grant
            self.log.append({"client_email": email, "scopes": sorted(scopes), "key_id": kid})
        return {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}

    def check(self, authorization: str | None) -> Grant | None:
        """The grant behind an Authorization header, or None when missing/unknown/expired."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization.split(" ", 1)[1].strip()
        with self.lock:
            grant = self.grants.get(token)
        if grant is None or grant.expires < time.time():
            return None
        return grant

    def revoke_all(self) -> None:
        """Forget every issued token (clients must fetch new ones): tests of token refresh."""
        with self.lock:
            self.grants.clear()
