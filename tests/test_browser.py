"""End to end in a real browser (headless Chromium + chromedriver, driven by Selenium).

A real `nnassign grade` run on example submissions whose written answers were filled in (one of
them hostile), then `nnassign review` as a subprocess: log in with the token, score with the
keyboard, reload and see the scores kept, import the rest as CSV through the page, run
`nnassign finalize` and find the scores in the final CSVs; regrade and find them still there.
The class report and the similarity report are opened in the same browser; screenshots are kept
under pytest's tmp folder and copied to out/artifacts/ (git-ignored).
"""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import nbformat
import pytest

from corpus import SMALL_LIMITS, grade_command, make_assignment

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "submissions"
ARTIFACTS = REPO / "out" / "artifacts"
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
_QTAG = re.compile(r"\*\*\[Q(\d+)\]\*\*")


def with_answers(path, answer):
    """The notebook with every written answer cell filled with answer(k)."""
    nb = nbformat.read(path, as_version=4)
    k = None
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown" and "otter_answer_cell" not in tags and _QTAG.search(cell.source):
            k = int(_QTAG.search(cell.source).group(1))
        elif cell.cell_type == "markdown" and "otter_answer_cell" in tags and k is not None:
            cell.source = answer(k)
    return nb


def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def cli(*args):
    return [sys.executable, "-m", "nnassign.cli", *map(str, args)]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, data_root):
    root = tmp_path_factory.mktemp("browser")
    config = make_assignment(root, SMALL_LIMITS)
    (root / "student").symlink_to(REPO / "student")   # the template, removed before comparing code
    subs = root / "subs"
    subs.mkdir()
    partial = EXAMPLES / "honest-partial.ipynb"
    nbformat.write(with_answers(partial, lambda k: HOSTILE if k == 1 else f"Alice's answer to question {k}."),
                   subs / "alice.ipynb")
    nbformat.write(with_answers(partial, lambda k: f"Bob thinks {k} is about gradients."), subs / "bob.ipynb")
    shutil.copy(EXAMPLES / "untouched-template.ipynb", subs / "carol.ipynb")
    out = root / "out"
    run(grade_command([subs], out, config, "--workers", "2"), cwd=root, env=dict(os.environ, NNASSIGN_SECRET="b"))
    return root, config, subs, out


@pytest.fixture(scope="module")
def server(graded):
    root, config, _, out = graded
    proc = subprocess.Popen(cli("review", out, "--port", "0", "--config", config), cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    for line in proc.stdout:
        m = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line)
        if m:
            url = m.group(0)
            break
    assert url, "nnassign review printed no URL"
    # keep reading its log (one line per request): a full pipe would block the server mid-request
    log = []
    threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True).start()
    yield url.split("/?")[0], url.split("token=")[1]
    # Ctrl+C stops it, even when this suite runs in the background of a script (SIGINT then arrives ignored)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "install chromium and chromium-driver (.ci/run does it on Debian)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for png in folder.glob("*.png"):
        shutil.copy(png, ARTIFACTS / png.name)


def wait(driver, condition, timeout=15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def card(driver, student):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'.card[data-student="{student}"]')


def keys(driver, *sequence):
    from selenium.webdriver.common.action_chains import ActionChains

    for k in sequence:
        ActionChains(driver).send_keys(k).perform()


def saved(driver, student):
    return lambda d: card(d, student).find_element("css selector", ".state").text in ("saved", "cleared")


def test_review_in_the_browser_then_finalize(graded, server, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root, config, subs, out = graded
    base, token = server
    d = browser

    # Log in like Jupyter: without the token nothing shows; the token form lets us in.
    d.get(base + "/q/written_q1")
    assert "Token needed" in d.title and "alice" not in d.page_source
    d.find_element(By.ID, "token").send_keys(token + Keys.ENTER)
    wait(d, lambda d: "Written answers" in d.title)
    d.find_element(By.LINK_TEXT, "written_q1").click()
    wait(d, lambda d: d.title.startswith("written_q1"))

    # The hostile answer is shown as text and ran nothing.
    assert HOSTILE in card(d, "alice").find_element(By.CSS_SELECTOR, ".answer").text
    assert d.execute_script("return window.pwned === undefined")
    assert "without answer" in d.find_element(By.CSS_SELECTOR, "header.top").text   # carol: empty answers
    ref = d.find_element(By.CSS_SELECTOR, ".reference").text
    assert "Reference answer" in ref and "[Q1]" in ref

    # Keyboard: the first answer to score is current; 1 scores it and moves on; k goes back,
    # c opens the comment, Enter saves it with the points; j, 0 scores bob.
    assert "current" in card(d, "alice").get_attribute("class")
    keys(d, "1")
    wait(d, saved(d, "alice"))
    wait(d, lambda d: "current" in card(d, "bob").get_attribute("class"))
    keys(d, "k", "c", "Well argued <b>really</b>", Keys.ENTER)
    wait(d, lambda d: card(d, "alice").get_attribute("data-version") == "2")
    keys(d, "j", "0")
    wait(d, saved(d, "bob"))
    wait(d, lambda d: d.find_element(By.ID, "progress").text == "2 / 2 scored")
    rubric = d.find_element(By.ID, "rubric")
    rubric.send_keys("1 point: names the classes that look alike")
    d.find_element(By.ID, "grader").click()   # leaving the rubric saves it
    wait(d, lambda d: d.find_element(By.ID, "rubric-state").text == "saved")
    d.save_screenshot(str(shots / "review_page.png"))

    # Reload: everything kept (it is in SQLite, not in the page).
    d.refresh()
    wait(d, lambda d: d.find_element(By.ID, "progress").text == "2 / 2 scored")
    assert card(d, "alice").find_element(By.CSS_SELECTOR, ".points").get_attribute("value") == "1"
    assert card(d, "alice").find_element(By.CSS_SELECTOR, ".comment").get_attribute("value") == "Well argued <b>really</b>"
    assert card(d, "bob").find_element(By.CSS_SELECTOR, ".points").get_attribute("value") == "0"
    assert "names the classes" in d.find_element(By.ID, "rubric").get_attribute("value")

    # Another TA (their own session) comments on bob's answer; back on this tab, the page shows it.
    other = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    other.open(f"{base}/?token={token}").read()
    other.open(urllib.request.Request(f"{base}/api/score", method="POST", data=json.dumps(
        {"student": "bob", "question": "written_q1", "points": 0, "comment": "second TA: no reasoning"}).encode(),
        headers={"Content-Type": "application/json", "X-Review-Token": token})).read()
    d.execute_script("window.dispatchEvent(new Event('focus'))")
    wait(d, lambda d: card(d, "bob").find_element(By.CSS_SELECTOR, ".comment").get_attribute("value")
         == "second TA: no reasoning")

    # Score key above the maximum is refused on the page, nothing saved.
    d.get(base + "/q/written_q2")
    keys(d, "5")
    wait(d, lambda d: "at most" in card(d, "alice").find_element(By.CSS_SELECTOR, ".state").text)
    keys(d, "1")
    wait(d, saved(d, "alice"))

    # The rest through the page's CSV import (the file chooser is a real upload).
    rest = root / "rest.csv"
    with rest.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "question", "points", "comment"])
        for sid in ("alice", "bob"):
            for k in range(2, 18):
                if (sid, k) != ("alice", 2):
                    w.writerow([sid, f"written_q{k}", 1, f"imported {k}"])
    d.get(base + "/")
    d.find_element(By.CSS_SELECTOR, 'input[type="file"]').send_keys(str(rest))
    d.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
    wait(d, lambda d: "score(s) imported" in d.page_source)
    d.get(base + "/")
    done = [td.text for td in d.find_elements(By.CSS_SELECTOR, "td[data-question]")]
    assert done == ["2 / 2"] * 17, done

    # Finalize: the scores and the comment are in the final files.
    run(cli("finalize", out, "--config", config), cwd=root)
    final = {r["id"]: r for r in csv.DictReader(open(out / "final_grades.csv"))}
    assert float(final["alice"]["written_q1"]) == 1 and float(final["bob"]["written_q1"]) == 0
    assert float(final["alice"]["written"]) == 17 and float(final["bob"]["written"]) == 16
    assert float(final["carol"]["written"]) == 0 and final["carol"]["flags"] == ""
    auto = {r["id"]: float(r["total"]) for r in csv.DictReader(open(out / "grades.csv"))}
    assert float(final["alice"]["total"]) == pytest.approx(auto["alice"] + 17)
    canvas = {r[1]: r[-1] for r in csv.reader(open(out / "final_canvas_grades.csv"))}
    assert float(canvas["alice"]) == pytest.approx(auto["alice"] + 17)
    gs = json.loads((out / "final" / "gradescope" / "alice" / "results.json").read_text())
    assert any(t["output"] == "Well argued <b>really</b>" for t in gs["tests"])

    # A regrade (alice's result redone) keeps every written score.
    (out / "results" / "alice.json").unlink()
    run(grade_command([subs], out, config, "--workers", "1"), cwd=root, env=dict(os.environ, NNASSIGN_SECRET="b"))
    run(cli("finalize", out, "--config", config), cwd=root)
    again = {r["id"]: r for r in csv.DictReader(open(out / "final_grades.csv"))}
    assert again["alice"]["written"] == final["alice"]["written"] and again["bob"]["written"] == final["bob"]["written"]
    assert again["alice"]["flags"] == ""


def test_reports_open_in_the_browser(graded, browser, shots):
    from selenium.webdriver.common.by import By

    root, config, _, out = graded
    d = browser
    d.get((out / "report.html").as_uri())
    wait(d, lambda d: d.title == "Class report")
    images = d.find_elements(By.TAG_NAME, "img")
    assert images and all(d.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
    d.save_screenshot(str(shots / "class_report.png"))

    run(cli("similarity", out, "--config", config), cwd=root)
    d.get((out / "similarity" / "report.html").as_uri())
    wait(d, lambda d: d.title == "Similarity report")
    rows = d.find_elements(By.CSS_SELECTOR, "#pairs tbody tr")
    assert len(rows) == 3                                     # alice, bob, carol: three pairs
    assert "alice" in rows[0].text and "bob" in rows[0].text  # the same partial code: the top pair
    assert d.execute_script("return window.pwned === undefined")
    d.save_screenshot(str(shots / "similarity_report.png"))
    assert (shots / "similarity_report.png").stat().st_size > 10_000
