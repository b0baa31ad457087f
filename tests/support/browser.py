"""Headless Debian Chromium for the browser tests (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("FINSTREAM_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed")


def launch(playwright: Any) -> Any:
    """The system Chromium from a sync or async Playwright (await the result with the async one)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


@asynccontextmanager
async def answered_on_demo_page(url: str, token: str, upload: Path, question: str) -> AsyncIterator[tuple[Any, list[str]]]:
    """The API's demo page (at ``url``) in Chromium: a new conversation, ``upload`` uploaded and
    ``question`` answered. Yields the page and the page's script errors so far."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{url}/#token={token}")
            await page.click("#new-conversation")
            await page.locator("#conversation-id", has_text="conversation").wait_for()
            await page.set_input_files("#files", str(upload))
            await page.click("#upload")
            await page.locator("#upload-status", has_text="uploaded:").wait_for(timeout=60_000)
            await page.fill("#question", question)
            await page.click("#ask")
            await page.locator("#status", has_text="done").wait_for(timeout=60_000)
            yield page, errors
        finally:
            await browser.close()
