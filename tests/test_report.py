"""report.html / report.md of a run: opened in headless Chromium, its images load, nothing is
fetched from outside, failed diagnostics are at the top in red, and its numbers are the ones in
estimates.csv."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest
from selenium.webdriver.common.by import By

from bayes_resil.report.document import Alert, Cell, Heading, Table, to_html, to_markdown


def open_report(browser, path: Path):
    browser.get(path.resolve().as_uri())
    browser.execute_script("return document.readyState")
    return browser


def test_report_renders_in_headless_chromium_with_its_images(default_run, browser):
    out, _ = default_run
    page = open_report(browser, out / "report.html")
    assert page.title.startswith("bayes_resil run report")
    assert page.execute_script("return document.body.scrollHeight") > 2000
    images = page.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, "
        "i.naturalHeight])")
    pngs = list((out / "figures").glob("*.png"))
    assert len(images) == len(pngs) >= 8
    assert all(done and w > 100 and h > 100 for done, w, h in images), images
    # self-contained: no script, no stylesheet link, nothing loaded over the network
    external = page.execute_script(
        "return document.querySelectorAll('script, link[rel=stylesheet], [src^=http], "
        "[href^=http]').length")
    assert external == 0
    shot = page.get_screenshot_as_png()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000


#: each character drawn with the body's font on a canvas; the index of the first identical bitmap
GLYPHS = """
const font = getComputedStyle(document.body).fontFamily;
function bitmap(ch) {
  const c = document.createElement('canvas'); c.width = 64; c.height = 64;
  const g = c.getContext('2d'); g.font = '40px ' + font; g.fillText(ch, 4, 48);
  return Array.from(g.getImageData(0, 0, 64, 64).data).join(',');
}
return arguments[0].map(bitmap).map((b, i, all) => all.indexOf(b));
"""


def test_report_chinese_labels_render_as_glyphs_not_boxes(default_run, browser):
    """A missing glyph is drawn as the same empty box whatever the character, so distinct
    characters of the report's Chinese labels must give distinct bitmaps. The control: two
    noncharacters (no font has them) do give the same box. Checked by hand: with fontconfig
    limited to DejaVu (no CJK font) every Chinese character here drew that same box."""
    out, _ = default_run
    page = open_report(browser, out / "report.html")
    text = page.execute_script("return document.body.innerText")
    cjk = sorted({c for c in text if "\u4e00" <= c <= "\u9fff"})
    assert len(cjk) >= 10, "the report shows the index indicators' Chinese labels"
    probe = cjk[:12]
    first = page.execute_script(GLYPHS, [*probe, "\U0010fffd", "\U0010fffc"])
    assert first[-1] == first[-2] == len(probe), "control: two missing glyphs draw one box"
    assert first[:len(probe)] == list(range(len(probe))), (
        "Chinese labels draw as identical boxes: no CJK font (sh scripts/ensure_chromium.sh "
        "installs fonts-wqy-microhei)")


def test_report_numbers_are_the_ones_in_estimates_csv(default_run, browser):
    out, _ = default_run
    est = pd.read_csv(out / "estimates.csv")
    page = open_report(browser, out / "report.html")
    table = page.find_element(By.CSS_SELECTOR, "table[data-table=all_estimates]")
    cells = table.find_elements(By.CSS_SELECTOR, "td[data-field=estimate]")
    assert len(cells) == len(est)
    key = ["method", "estimand", "outcome"]
    shown = pd.DataFrame([{"method": c.get_attribute("data-method"),
                           "estimand": c.get_attribute("data-estimand"),
                           "outcome": c.get_attribute("data-outcome"),
                           "value": float(c.get_attribute("data-value")), "text": c.text}
                          for c in cells])
    both = est.astype({"outcome": str}).merge(shown, on=key, validate="one_to_one")
    assert len(both) == len(est)
    assert (both["value"] - both["estimate"]).abs().max() < 1e-15
    assert (both["text"] == both["estimate"].map(lambda v: f"{v:.4f}")).all()
    # the headline rows the reader sees first: TWFE, with controls, and the Bayesian effect
    for method in ("twfe", "twfe_controls", "bayes_hetero_region"):
        cell = page.find_element(By.CSS_SELECTOR, f"table[data-table] td[data-method={method}]"
                                 "[data-estimand=att][data-field=estimate]")
        value = est.query("method == @method and estimand == 'att'")["estimate"].iloc[0]
        assert cell.text == f"{value:.4f}"


def test_failed_diagnostics_are_the_first_thing_in_red(default_run, browser):
    out, _ = default_run
    diag = pd.read_csv(out / "diagnostics.csv")
    assert not diag["passed"].all()  # the smoke sampler's tiny run fails the thresholds
    page = open_report(browser, out / "report.html")
    alert = page.find_element(By.CSS_SELECTOR, "body > h1 + *")  # the block right below h1
    assert "alert-error" in alert.get_attribute("class").split()
    assert "DIAGNOSTICS FAILED" in alert.text
    color = page.execute_script("return getComputedStyle(arguments[0]).color", alert)
    r, g, b = map(int, re.findall(r"\d+", color)[:3])
    assert r > 120 and g < 60 and b < 60, color
    for failure in diag["failures"].iloc[0].split("; "):
        assert failure in alert.text


def test_report_md_has_the_same_numbers_and_working_figure_links(default_run):
    out, _ = default_run
    md = (out / "report.md").read_text(encoding="utf-8")
    est = pd.read_csv(out / "estimates.csv")
    twfe = est.query("method == 'twfe' and estimand == 'att'").iloc[0]
    assert f"| twfe | att | y | {twfe['estimate']:.4f} | {twfe['std_error']:.4f} |" in md
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links and all((out / link).is_file() for link in links)
    assert "SIMULATED DATA" in md and "Table 2. Baseline TWFE DID" in md


def test_document_escapes_html_and_markdown():
    blocks = [Alert("a <b> & c", ["x|y"]), Heading("h"),
              Table(["col|1", "n"], [[Cell("<i>", {"k": 'q"'}), "1.5"]], "cap", "t")]
    page = to_html("T <x>", blocks)
    assert "<b>" not in page and "&lt;b&gt; &amp; c" in page and 'data-k="q&quot;"' in page
    assert '<td class="num">1.5</td>' in page
    md = to_markdown("T", blocks)
    assert "| col\\|1 | n |" in md and "> - x|y" in md


@pytest.mark.parametrize("name", ["report.html", "report.md"])
def test_reports_are_listed_in_the_summary(default_run, name):
    out, proc = default_run
    assert (out / name).is_file() and name in proc.stdout


def test_report_opens_with_the_claims_table_coloured_by_verdict(default_run, browser):
    """The first section is the claims table: one row per claim with the verdict of
    claims.csv, its cell coloured by verdict, lens cells linked to files of the run."""
    out, _ = default_run
    page = open_report(browser, out / "report.html")
    headings = [h.text for h in page.find_elements(By.TAG_NAME, "h2")]
    assert headings[0] == "The paper's claims under every lens"
    claims = pd.read_csv(out / "claims.csv")
    expected = claims[claims["lens"] == "verdict"].set_index("claim")["verdict"]
    cells = page.find_elements(By.CSS_SELECTOR, "table[data-table=claims] td[data-verdict]")
    shown = {c.get_attribute("data-claim"): c for c in cells}
    assert list(shown) == list(expected.index)
    colours = {}
    for cid, cell in shown.items():
        assert cell.text == expected[cid]
        colours.setdefault(expected[cid], set()).add(cell.value_of_css_property(
            "background-color"))
    assert all(len(c) == 1 for c in colours.values())  # one colour per verdict
    if len(colours) > 1:  # different verdicts, different colours
        assert len({next(iter(c)) for c in colours.values()}) == len(colours)
    links = [a.get_attribute("href") for a in page.find_elements(
        By.CSS_SELECTOR, "table[data-table=claims] a")]
    assert links and all(Path(unquote(re.sub("^file://", "", h))).is_file() for h in links)
