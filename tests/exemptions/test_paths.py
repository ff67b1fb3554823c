"""``exempt_paths`` on raw scopes: prefixes, regexes, root_path and normalisation."""

from __future__ import annotations

import re

import pytest
from maintenance_core.exemptions import exempt_paths, normalise_path, route_path

from .helpers import request


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/admin", True),
        ("/admin/", True),
        ("/admin/users/42", True),
        ("/administrator", False),  # not on a '/' boundary
        ("/admin-panel", False),
        ("/adm", False),
        ("/", False),
        ("/shop/admin", False),  # a prefix, not a substring
        ("/Admin", False),  # paths are case-sensitive
        ("/ADMIN/users", False),
    ],
)
def test_prefix_matches_itself_and_below_on_slash_boundary(path: str, expected: bool) -> None:
    assert exempt_paths("/admin")(request(path)) is expected


@pytest.mark.parametrize("prefix", ["/admin/", "/admin//"])
def test_trailing_slash_on_prefix_changes_nothing(prefix: str) -> None:
    handler = exempt_paths(prefix)
    assert handler(request("/admin"))
    assert handler(request("/admin/x"))
    assert not handler(request("/administrator"))


def test_several_prefixes() -> None:
    handler = exempt_paths("/admin", "/health")
    assert handler(request("/health"))
    assert handler(request("/admin/x"))
    assert not handler(request("/shop"))


def test_root_prefix_matches_every_path() -> None:
    handler = exempt_paths("/")
    assert handler(request("/"))
    assert handler(request("/anything/at/all"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/health", True),
        ("/api/v22/health", True),
        ("/api/v1/health/x", False),  # fullmatch: a longer path is not a match
        ("/x/api/v1/health", False),  # fullmatch: `search` would have matched this
        ("/api/v1/healthz", False),
        ("/api/vX/health", False),
    ],
)
def test_regex_must_match_the_whole_path(path: str, expected: bool) -> None:
    assert exempt_paths(re.compile(r"/api/v\d+/health"))(request(path)) is expected


def test_prefixes_and_regexes_mixed() -> None:
    handler = exempt_paths("/admin", re.compile(r"/status/\w+"))
    assert handler(request("/admin/x"))
    assert handler(request("/status/db"))
    assert not handler(request("/status/db/x"))
    assert not handler(request("/shop"))


def test_regex_is_not_compiled_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = exempt_paths(re.compile(r"/status/\w+"))

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("re module function called per request")

    for name in ("compile", "match", "fullmatch", "search"):
        monkeypatch.setattr(re, name, forbidden)
    assert handler(request("/status/db"))


# --- root_path ---------------------------------------------------------------------


def test_root_path_is_removed_from_path() -> None:
    # Starlette >= 0.33: scope["path"] includes root_path; the app routes on the rest.
    handler = exempt_paths("/admin")
    assert handler(request("/app/admin/x", root_path="/app"))
    assert not handler(request("/app/shop", root_path="/app"))


def test_patterns_are_relative_to_the_app_not_to_the_root_path() -> None:
    # The app behind root_path "/app" routes "/app/shop" as "/shop": exempting "/app" in
    # the app's terms does not exempt its shop.
    assert not exempt_paths("/app")(request("/app/shop", root_path="/app"))


def test_path_without_the_root_path_is_used_as_is() -> None:
    # Older servers gave scope["path"] without root_path.
    assert exempt_paths("/admin")(request("/admin", root_path="/app"))


def test_root_path_removed_only_on_a_slash_boundary() -> None:
    # root_path "/ad" is not a path prefix of "/admin": removing it would give "min".
    assert exempt_paths("/admin")(request("/admin", root_path="/ad"))
    assert route_path({"path": "/admin", "root_path": "/ad"}) == "/admin"


def test_route_path_of_the_root_path_itself_is_slash() -> None:
    assert route_path({"path": "/app", "root_path": "/app"}) == "/"
    assert exempt_paths("/")(request("/app", root_path="/app"))


# --- percent-encoding and normalisation -------------------------------------------


def test_percent_encoding_decoded_once_by_the_server_is_exempt() -> None:
    # "/%61dmin" on the wire: the server decodes it once into scope["path"] == "/admin",
    # and the app routes it to /admin, so it is exempt like "/admin".
    assert exempt_paths("/admin")(request("/admin", raw_path=b"/%61dmin"))


def test_percent_encoding_is_not_decoded_twice() -> None:
    # "/%2561dmin" on the wire is "/%61dmin" in scope["path"]; the app routes on that
    # literal path (not to /admin), so decoding it again would exempt some other endpoint.
    assert not exempt_paths("/admin")(request("/%61dmin", raw_path=b"/%2561dmin"))


def test_encoded_slashes_cannot_climb_out_of_the_exempt_prefix() -> None:
    # "/admin%2F..%2Fshop" arrives as "/admin/../shop": normalised it is /shop, so whoever
    # resolves the dots reaches the shop: not exempt.
    handler = exempt_paths("/admin")
    assert not handler(request("/admin/../shop", raw_path=b"/admin%2F..%2Fshop"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # Inside /admin however the dots and slashes are read: exempt.
        ("/admin//users", True),
        ("/admin/./users", True),
        ("/admin/users/..", True),  # -> /admin/
        ("/admin/x/../users", True),  # -> /admin/users
        # Leaves /admin once normalised: whoever resolves the dots reaches another endpoint.
        ("/admin/../shop", False),
        ("/admin/..", False),  # -> /
        ("/admin/x/../../shop", False),
        # Reaches /admin only once normalised: the router sees another path (it may route
        # it elsewhere, e.g. to a catch-all), so only agreeing paths are exempt.
        ("//admin", False),
        ("/./admin", False),
        ("/x/../admin", False),
        ("/../admin", False),
    ],
)
def test_normalisation_tricks(path: str, expected: bool) -> None:
    assert exempt_paths("/admin")(request(path)) is expected


def test_normalisation_applies_to_regexes_too() -> None:
    handler = exempt_paths(re.compile(r"/files/.+"))
    assert handler(request("/files/a/b"))
    assert handler(request("/files/a//b"))  # both forms match
    assert not handler(request("/files/../shop"))  # raw form matches, normalised is /shop
    assert not handler(request("/x/../files/a"))  # only the normalised form matches


@pytest.mark.parametrize(
    ("path", "normal"),
    [
        ("/", "/"),
        ("/a/b", "/a/b"),
        ("//a///b", "/a/b"),
        ("/a/./b/.", "/a/b/"),
        ("/a/b/../c", "/a/c"),
        ("/../../a", "/a"),
        ("/a/..", "/"),
        ("/a/b/", "/a/b/"),
        ("/%2e%2e/a", "/%2e%2e/a"),  # not decoded: "%2e%2e" is a literal segment here
        ("/A/.hidden", "/A/.hidden"),
    ],
)
def test_normalise_path(path: str, normal: str) -> None:
    assert normalise_path(path) == normal


# --- construction ------------------------------------------------------------------


def test_no_pattern_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        exempt_paths()


@pytest.mark.parametrize("prefix", ["admin", "", "*"])
def test_prefix_must_start_with_slash(prefix: str) -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        exempt_paths(prefix)


@pytest.mark.parametrize("prefix", ["/a//b", "/a/./b", "/a/../b"])
def test_prefix_must_be_normalised(prefix: str) -> None:
    with pytest.raises(ValueError, match="not normalised"):
        exempt_paths(prefix)


@pytest.mark.parametrize("pattern", [re.compile(rb"/admin"), 42, None, ["/admin"]])
def test_other_pattern_types_are_refused(pattern: object) -> None:
    with pytest.raises(TypeError, match="compiled"):
        exempt_paths(pattern)  # type: ignore[arg-type]
