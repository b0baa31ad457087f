"""Reachable beyond loopback, the app asks for FINSTREAM_APP_TOKEN (and refuses without one)."""

from __future__ import annotations

import pytest
from streamlit import config

from finstream.settings import get_settings
from finstream.ui.access import is_loopback


@pytest.fixture
def exposed(monkeypatch):
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)
    get_settings.cache_clear()


def with_token(monkeypatch, token: str | None) -> None:
    if token is None:
        monkeypatch.delenv("FINSTREAM_APP_TOKEN", raising=False)
    else:
        monkeypatch.setenv("FINSTREAM_APP_TOKEN", token)
    get_settings.cache_clear()


def texts(at) -> str:
    return " ".join(e.value for e in [*at.error, *at.markdown, *at.subheader])


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.0.1.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("", False), (None, False), ("10.0.0.5", False)],
)
def test_loopback_addresses(address, loopback):
    assert is_loopback(address) is loopback


def test_exposed_without_a_token_refuses_to_serve(ui_runtime, app_test, exposed, monkeypatch):
    with_token(monkeypatch, None)
    at = app_test().run()
    assert "without an access token" in texts(at)
    assert not at.chat_input


def test_exposed_with_a_token_asks_for_it_and_lets_the_right_one_in(ui_runtime, app_test, exposed, monkeypatch):
    with_token(monkeypatch, "s3cret-token")
    at = app_test().run()
    assert not at.chat_input and at.text_input[0].label == "Access token"
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert "not valid" in texts(at) and not at.chat_input
    at.text_input[0].input("s3cret-token")
    at.button[0].click().run()
    assert at.chat_input
    assert "s3cret-token" not in texts(at)


def test_token_in_the_url_is_accepted_and_removed(ui_runtime, app_test, exposed, monkeypatch):
    with_token(monkeypatch, "s3cret-token")
    at = app_test()
    at.query_params["token"] = "s3cret-token"
    at.run()
    assert at.chat_input
    assert "token" not in at.query_params
