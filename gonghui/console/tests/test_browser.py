"""A county official browses and searches the tree in a real browser (Debian's chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gonghui.orgs import services
from gonghui.orgs.models import OrgKind, Role
from gonghui.testing.browser import screenshot
from gonghui.testing.fixtures import PASSWORD, Tree, staff_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def county(live_server):
    """Nanshan with a two-level branch under Nantou: park federation → a grassroots union."""
    tree = Tree()
    admin = staff_on(tree.nanshan, Role.ADMIN, username="nanshan-admin", display_name="南山区总工会 李敏")
    park = services.union_create(actor=admin, parent=tree.nantou, name="南头科技园区工会联合会", kind=OrgKind.AREA)
    services.union_create(
        actor=admin, parent=park, name="深圳市南头园区电子有限公司工会委员会", kind=OrgKind.GRASSROOTS
    )
    tree.park = park
    return tree


def log_in(page, username="nanshan-admin"):
    page.goto(page.base_url + "/console/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_county_admin_browses_and_searches_at_desktop_width(county, desktop_page):
    page = desktop_page
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("南山区总工会")
    expect(page.locator(".crumbs")).to_contain_text("深圳市总工会")

    # Two levels of the lazy tree: Nantou, then the park federation under it.
    page.get_by_role("button", name="展开 南头街道工会").click()
    park_toggle = page.get_by_role("button", name="展开 南头科技园区工会联合会")
    expect(park_toggle).to_be_visible()
    expect(page.get_by_role("link", name=county.nantou_union.name, exact=True)).to_be_visible()
    park_toggle.click()
    expect(page.get_by_role("link", name="深圳市南头园区电子有限公司工会委员会", exact=True)).to_be_visible()
    # Closing a branch hides it without another request.
    page.get_by_role("button", name="展开 南头街道工会").click()
    expect(park_toggle).to_be_hidden()
    page.get_by_role("button", name="展开 南头街道工会").click()
    expect(park_toggle).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "console-node")

    # Live search by Chinese name, then by pinyin initials.
    page.locator("#top-q").fill("南头")
    page.locator("#top-q").press("Enter")
    box = page.locator("#q")
    expect(box).to_have_value("南头")
    box.fill("")
    box.press_sequentially("南头精密")
    results = page.locator("#search-results")
    expect(results.get_by_role("link", name=county.nantou_union.name, exact=True)).to_be_visible()
    expect(results.get_by_role("link", name=county.nantou_employer.name, exact=True)).to_be_visible()
    box.fill("")
    box.press_sequentially("szsnt")
    expect(results.get_by_role("link", name="深圳市南头园区电子有限公司工会委员会", exact=True)).to_be_visible()
    expect(results.get_by_role("link", name=county.nantou_union.name, exact=True)).to_be_visible()
    expect(results).not_to_contain_text("福田")
    screenshot(page, "console-search")

    results.get_by_role("link", name=county.nantou_union.name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(county.nantou_union.name)
    expect(page.locator(".crumbs")).to_contain_text("南头街道工会")


def test_county_admin_at_phone_width(county, phone_page):
    page = phone_page
    log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("南山区总工会")
    page.get_by_role("button", name="展开 南头街道工会").click()
    expect(page.get_by_role("button", name="展开 南头科技园区工会联合会")).to_be_visible()
    # Nothing sticks out sideways at 390 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "console-phone")
