"""The console as the local stack serves it: the same types, cache headers and CSP a deployment
gives it, its configuration, and nothing outside the build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local_stack.console import ConsoleSite
from local_stack.user_pool import LocalUserPool

POOL = LocalUserPool("eu-west-1_pool", "client", "admin@example.com", "secret")


@pytest.fixture
def site(tmp_path: Path) -> ConsoleSite:
    build = tmp_path / "dist"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text("<!doctype html><title>Helpdesk</title>")
    (build / "assets" / "index-abc123.js").write_text("console.log('hi')")
    (tmp_path / "secret.txt").write_text("not the console's")
    return ConsoleSite(POOL, "http://127.0.0.1:4566", "eu-west-1", root=build)


def test_the_page_is_revalidated_and_its_hashed_assets_kept_a_year(site: ConsoleSite):
    status, headers, body = site.file("/")  # type: ignore[misc]
    assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert headers["Cache-Control"] == "no-cache"
    assert b"Helpdesk" in body
    status, headers, _ = site.file("/assets/index-abc123.js")  # type: ignore[misc]
    assert status == 200
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_every_answer_carries_a_policy_that_allows_only_this_address_and_the_emulator(
    site: ConsoleSite,
):
    for path in ("/", "/assets/index-abc123.js", "/config.json", "/assets/missing.js"):
        _, headers, _ = site.file(path)  # type: ignore[misc]
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "connect-src 'self' http://127.0.0.1:4566;" in policy
        # A mail's inline images come from this address (the gateway serves the signed links),
        # never from the emulator's bucket; its frame, a srcdoc, needs no frame source
        assert "img-src 'self' data: blob:;" in policy
        assert not {"frame-src", "child-src"} & {d.split()[0] for d in policy.split("; ")}
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_configuration_names_the_local_pool_and_offers_dev_tokens(site: ConsoleSite):
    status, headers, body = site.file("/config.json")  # type: ignore[misc]
    config = json.loads(body)
    assert (status, headers["Cache-Control"]) == (200, "no-store")
    assert config["user_pool"] == {
        "region": "eu-west-1",
        "pool_id": "eu-west-1_pool",
        "client_id": "client",
        "endpoint": "/local/cognito",
        "auth_flow": "USER_PASSWORD_AUTH",
    }
    assert config["dev_tokens"] is config["local"] is True


@pytest.mark.parametrize(
    "path", ["/assets/../../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/nothing.js"]
)
def test_nothing_outside_the_build_is_served(site: ConsoleSite, path: str):
    status, _, body = site.file(path)  # type: ignore[misc]
    assert status == 404
    assert b"not the console's" not in body


def test_api_paths_are_not_the_consoles(site: ConsoleSite):
    assert site.file("/tickets") is None
    assert site.file("/openapi.json") is None


def test_an_unbuilt_console_says_how_to_build_it(tmp_path: Path):
    empty = ConsoleSite(POOL, "http://127.0.0.1:4566", "eu-west-1", root=tmp_path)
    status, _, body = empty.file("/")  # type: ignore[misc]
    assert status == 503
    assert b"make run builds it" in body
