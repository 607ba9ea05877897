"""The link page in real headless Chromium at a phone-sized viewport, each step checked in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from storage import Database, consent
from tests.pages.conftest import NUMBER, SENDER, token_of


def _status(database: Database, topic: str | None = None) -> consent.SuppressionStatus:
    with database.begin() as session:
        return consent.suppression_status(session, NUMBER, SENDER, topic)


def _shot(page: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000


@pytest.mark.parametrize("phone", [{"java_script_enabled": False}], indirect=True, ids=["no-javascript"])
def test_one_tap_unsubscribe_then_resubscribe(
    phone: Any, live_server: str, client: FlaskClient, database: Database, tmp_path: Path
) -> None:
    phone.goto(f"{live_server}/u/{token_of(client)}")
    assert phone.locator("h1").inner_text() == "Your texts from Acme Outlet Latino"
    button = phone.locator("#unsubscribe")
    box = button.bounding_box()
    assert box["y"] + box["height"] <= 844, "the unsubscribe button must be visible without scrolling"
    assert box["width"] >= 300 and box["height"] >= 44, "a thumb-sized target"
    _shot(phone, tmp_path, "1-choices")
    assert not _status(database).suppressed

    button.tap()
    phone.wait_for_url("**/done?did=unsubscribed*")
    assert "You are unsubscribed from Acme Outlet Latino" in phone.locator("#confirmation").inner_text()
    assert _status(database).suppressed
    _shot(phone, tmp_path, "2-unsubscribed")

    phone.locator("#resubscribe").tap()
    phone.wait_for_url("**/done?did=resubscribed*")
    assert "subscribed to Acme Outlet Latino again" in phone.locator("#confirmation").inner_text()
    assert not _status(database).suppressed
    _shot(phone, tmp_path, "3-resubscribed")


def test_keep_a_topic_pause_and_lower_the_frequency(
    phone: Any, live_server: str, client: FlaskClient, database: Database, tmp_path: Path
) -> None:
    phone.goto(f"{live_server}/u/{token_of(client, topic='offers')}")
    phone.get_by_label("Offers and sales").uncheck()
    phone.get_by_label("Events").uncheck()
    phone.get_by_label("For 1 month").check()
    phone.get_by_label("At most once a month").check()
    _shot(phone, tmp_path, "1-choices-made")
    phone.locator("#save").tap()
    phone.wait_for_url("**/done?did=saved*")
    summary = phone.locator("ul.summary").inner_text()
    assert "Offers and sales" in summary and "Events" in summary and "At most once a month" in summary
    _shot(phone, tmp_path, "2-saved")
    assert _status(database, "offers").suppressed and _status(database, "events").suppressed
    news = _status(database, "news")
    assert news.suppressed and news.entries[0].until is not None, "news is paused, not stopped"

    phone.get_by_label("Too many messages").check()
    phone.get_by_label("Anything else you want to tell us? (optional)").fill("Three a day is a lot")
    phone.locator("#send-reason").tap()
    phone.wait_for_url("**/done?did=thanks*")
    assert "Thank you" in phone.locator("#confirmation").inner_text()


@pytest.mark.parametrize("phone", [{"locale": "ru-RU"}], indirect=True, ids=["russian-phone"])
def test_russian_phone_and_keyboard_only(
    phone: Any, live_server: str, client: FlaskClient, database: Database, tmp_path: Path
) -> None:
    phone.goto(f"{live_server}/u/{token_of(client)}")
    assert phone.locator("html").get_attribute("lang") == "ru"
    assert phone.locator("#unsubscribe").inner_text() == "Отписаться от Acme Outlet Latino"
    _shot(phone, tmp_path, "1-russian")
    for _ in range(10):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.id") == "unsubscribe":
            break
    else:
        pytest.fail("the unsubscribe button cannot be reached with the keyboard")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/done?did=unsubscribed*")
    assert "Вы отписались" in phone.locator("#confirmation").inner_text()
    assert _status(database).suppressed

    phone.get_by_role("link", name="English").click()
    assert phone.locator("html").get_attribute("lang") == "en"
    assert "You are unsubscribed" in phone.locator("#confirmation").inner_text()


def test_a_tampered_link_gets_a_clear_page(phone: Any, live_server: str, client: FlaskClient, tmp_path: Path) -> None:
    token = token_of(client)
    response = phone.goto(f"{live_server}/u/{token[:-2]}xx")
    assert response.status == 404
    assert "This link does not work" in phone.locator("h1").inner_text()
    _shot(phone, tmp_path, "error")


CONTRAST_JS = """
(selector) => {
  const parse = (c) => c.match(/[\\d.]+/g).map(Number);
  const el = document.querySelector(selector);
  let bg = el, colour = parse(getComputedStyle(el).color);
  while (bg && parse(getComputedStyle(bg).backgroundColor).length === 4 && parse(getComputedStyle(bg).backgroundColor)[3] === 0) {
    bg = bg.parentElement;
  }
  return [colour, bg ? parse(getComputedStyle(bg).backgroundColor) : [255, 255, 255]];
}
"""


def _luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize(
    "path", ["/u/{token}", "/u/{token}/done?did=unsubscribed"], ids=["choices", "confirmation"]
)
def test_every_control_is_labelled_and_text_has_aa_contrast(
    phone: Any, live_server: str, client: FlaskClient, path: str
) -> None:
    phone.goto(live_server + path.format(token=token_of(client)))
    unlabelled = phone.evaluate(
        "() => [...document.querySelectorAll('input:not([type=hidden]), textarea, select')]"
        ".filter(e => e.labels.length === 0).map(e => e.outerHTML)"
    )
    assert unlabelled == []
    selectors = ["h1", "p.hint", ".brand", ".languages a", "label", "button"]
    for selector in selectors:
        if phone.locator(selector).count() == 0:
            continue
        foreground, background = phone.evaluate(CONTRAST_JS, selector)
        lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
        ratio = (lighter + 0.05) / (darker + 0.05)
        assert ratio >= 4.5, f"{selector}: contrast {ratio:.2f} is under WCAG AA's 4.5"
