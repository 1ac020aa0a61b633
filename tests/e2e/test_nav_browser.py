"""The header by role and the content pages' reading width, in Chromium at 1366 and 390 px.

A patient's three links sit on one line on a phone; staff get a "Menu" button there that opens
without JavaScript; content pages keep their lines under about 80 characters. Screenshots of
each go to test-artifacts/nav-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

WIDTHS = {"desktop": 1366, "phone": 390}

# Characters per line of a paragraph: its width over the mean width of its own characters
# (measured with the paragraph's font on a canvas), for every paragraph and list item of main.
LINE_LENGTHS = """() => {
  const ctx = document.createElement("canvas").getContext("2d");
  return [...document.querySelectorAll("main p, main li, main dd")].filter(
      el => el.offsetParent !== null && el.textContent.trim().length > 120).map(el => {
    const style = getComputedStyle(el);
    ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const text = el.textContent.replace(/\\s+/g, " ").trim();
    const perChar = ctx.measureText(text).width / text.length;
    return Math.round(el.clientWidth / perChar);
  });
}"""


def _context(browser, width: int, *, javascript: bool = True):
    return browser.new_context(viewport={"width": width, "height": 900},
                               is_mobile=width < 600, has_touch=width < 600,
                               java_script_enabled=javascript)


def _nav_tops(pg, selector: str) -> set[int]:
    return {round(box["y"]) for box in (a.bounding_box() for a in pg.locator(selector).all())
            if box}


@pytest.mark.parametrize("label", WIDTHS)
def test_a_patient_sees_the_patient_pages_on_one_line(browser, live_server, shot, label):
    context = _context(browser, WIDTHS[label])
    pg = context.new_page()
    pg.goto(live_server)
    links = pg.locator("header nav[aria-label='Main'] a")
    expect(links).to_have_text(["Check a lump", "Conditions", "About"])
    assert len(_nav_tops(pg, "header nav[aria-label='Main'] a")) == 1  # one line
    expect(pg.locator("footer a.staff-sign-in")).to_have_text("Staff sign-in")
    assert pg.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    shot(pg, f"nav-home-patient-{label}")
    for path in ("/about", "/knowledge-base", "/conditions", "/conditions/episacral_lipoma"):
        pg.goto(live_server + path)
        overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px"
    shot(pg, f"nav-condition-{label}")
    pg.click(".helpful-no > summary")
    pg.locator("#helpful-no").scroll_into_view_if_needed()
    shot(pg, f"nav-condition-no-{label}")
    context.close()


@pytest.mark.parametrize("label", WIDTHS)
@pytest.mark.parametrize(("roles", "start", "expected"), [
    (("clinician",), "/patients", ["Workspace", "Patients", "Clinic outcomes",
                                   "Alerts and referrals", "Knowledge base", "Password"]),
    (("reviewer",), "/reviewer", ["Feedback to review", "Knowledge base", "Password"]),
])
def test_staff_see_their_tools_and_a_menu_on_a_phone(browser, live_app, log_in, shot, label,
                                                      roles, start, expected):
    # without JavaScript: the phone menu is a <details>, the login a plain form
    context = _context(browser, WIDTHS[label], javascript=False)
    pg = context.new_page()
    log_in(pg, *roles, land=start)
    pg.goto(live_app.url)
    wide = pg.locator("header nav.nav-wide a")
    menu = pg.locator("header .nav-menu nav a")
    if label == "desktop":
        expect(wide).to_have_text(expected)
        expect(pg.locator(".nav-menu > summary")).to_be_hidden()
        shot(pg, f"nav-home-{roles[0]}-{label}")
    else:
        expect(pg.locator("header nav.nav-wide")).to_be_hidden()
        summary = pg.locator(".nav-menu > summary")
        expect(summary).to_be_visible()
        expect(menu.first).to_be_hidden()
        shot(pg, f"nav-home-{roles[0]}-{label}")
        summary.click()
        expect(menu).to_have_text(expected)
        expect(pg.locator(".nav-menu button", has_text="Log out")).to_be_visible()
        shot(pg, f"nav-home-{roles[0]}-{label}-menu-open")
        menu.filter(has_text=expected[0]).click()
        pg.wait_for_url(f"{live_app.url}{start if roles == ('reviewer',) else '/clinician'}")
    assert pg.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    context.close()


@pytest.mark.parametrize("path", ["/conditions/episacral_lipoma", "/conditions/liposarcoma",
                                  "/about", "/knowledge-base", "/conditions", "/"])
def test_content_pages_keep_lines_under_80_characters(browser, live_server, path):
    context = _context(browser, 1366)
    pg = context.new_page()
    pg.goto(live_server + path)
    lengths = pg.evaluate(LINE_LENGTHS)
    assert lengths, "no paragraph measured"
    assert max(lengths) <= 80, f"{path}: lines of up to {max(lengths)} characters"
    context.close()


def test_no_asks_what_was_wrong_and_the_reviewer_reads_it(page, live_server, log_in, shot):
    page.goto(f"{live_server}/conditions/lipoma")
    expect(page.locator("#fb-no-text")).to_be_hidden()  # asked only after "No"
    page.click(".helpful-no > summary")
    page.check("input[name='reason'][value='hard_to_understand']")
    page.check("input[name='reason'][value='wrong_or_out_of_date']")
    page.fill("#fb-no-text", "The size given for a typical lump seems off.")
    page.click(".helpful-no button[type='submit']")
    expect(page.locator(".notice")).to_contain_text("Thank you")
    log_in(page, "reviewer", land="/reviewer")
    row = page.locator("tr", has_text="The size given for a typical lump seems off.")
    expect(row).to_contain_text("What was wrong: hard to understand; something is wrong or "
                                "out of date")
    expect(row.locator("td").nth(3)).to_contain_text("No")
