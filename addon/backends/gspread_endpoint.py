"""A gspread client that talks to a chosen Sheets API endpoint instead of Google's.

gspread 6 builds every URL from constants in ``gspread.urls``; rather than patch those globals
(which would redirect every client in the process), the HTTP client of one ``gspread.Client``
rewrites the Google hosts to ``endpoint``. That is what ``source: {endpoint: http://127.0.0.1:PORT}``
in config.yaml means: the local Sheets emulator in tests, or a proxy in locked-down networks.
"""

from __future__ import annotations

from typing import Any

import gspread
from google.auth.credentials import Credentials
from gspread.http_client import HTTPClient
from requests import Response

# Hosts gspread calls (Sheets v4, Drive v3 and the Drive upload path).
GOOGLE_HOSTS: tuple[str, ...] = ("https://sheets.googleapis.com", "https://www.googleapis.com")


def rewrite(url: str, endpoint: str) -> str:
    """Point a Google API URL at ``endpoint`` (scheme://host[:port][/prefix]); others pass unchanged."""
    base = endpoint.rstrip("/")
    for host in GOOGLE_HOSTS:
        if url.startswith(host + "/") or url == host:
            return base + url[len(host):]
    return url


class EndpointHTTPClient(HTTPClient):
    """gspread's HTTP client with every Google API URL rewritten to ``endpoint``."""

    endpoint: str = ""

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, rewrite(endpoint, self.endpoint), *args, **kwargs)


def client_for(credentials: Credentials, endpoint: str | None = None,
               http_client: type[HTTPClient] = HTTPClient) -> gspread.Client:
    """A gspread Client for these credentials; with ``endpoint`` all API calls go there.

    ``http_client`` lets the caller keep its own retry policy (e.g. gspread's BackOffHTTPClient):
    the endpoint rewrite is layered on top of it.
    """
    if not endpoint:
        return gspread.Client(auth=credentials, http_client=http_client)
    if not endpoint.startswith(("http://", "https://")):
        raise ValueError(f"endpoint must be an http(s) URL, got {endpoint!r}")
    _no_google_side_calls(credentials)
    cls = type("EndpointHTTPClient", (EndpointHTTPClient, http_client), {"endpoint": endpoint})
    return gspread.Client(auth=credentials, http_client=cls)


def _no_google_side_calls(credentials: Credentials) -> None:
    """With a custom endpoint, nothing may leave for Google's own hosts behind the caller's back.

    google-auth (2.60+) looks up a "regional access boundary" at iamcredentials.googleapis.com in a
    background thread for default-universe credentials; against an emulator or through a proxy that
    call would bypass the endpoint, so it is switched off for these credentials only.
    """
    if hasattr(credentials, "_is_regional_access_boundary_lookup_required"):
        credentials._is_regional_access_boundary_lookup_required = lambda: False  # type: ignore[method-assign]
