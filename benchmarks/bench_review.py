"""Review page speed for a class of 300 synthetic submissions (issue "From written answers to final
grades", Show it). Run from the repository root:

    python benchmarks/bench_review.py [--students 300] [--saves 300] [--loads 20]

A synthetic OUT/results/ (300 results, 17 written answers of about 80 words each) is served by the
real `nnassign review` command (a subprocess, the repository's config and solution notebook):
1. page load: one question's grading screen (all 300 answers) fetched over HTTP (server time +
   transfer), and, when chromium and chromedriver are installed, loaded in headless Chromium up to
   the load event (parse, layout, the page's script); medians over --loads loads;
2. save latency: one score POSTed and stored in SQLite (WAL, synchronous=FULL) round trip; median
   and 95th percentile over --saves saves, sequential, each a different answer.
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("the network gradient softmax loss hidden layer weights learning rate epoch batch overfits "
         "validation accuracy shirt coat pixel because so when larger smaller curve converges").split()


def make_class(out, n, seed=0):
    rnd = random.Random(seed)
    (out / "results").mkdir(parents=True)
    for i in range(n):
        sid = f"{100000 + i}"
        answers = {f"written_q{k}": " ".join(rnd.choice(WORDS) for _ in range(80)) for k in range(1, 18)}
        (out / "results" / f"{sid}.json").write_text(json.dumps({
            "id": sid, "file": f"subs/{sid}.ipynb", "status": "graded", "message": "", "questions": {},
            "tests": [], "total": 20.0, "possible": 36.0, "percent": 55.6, "written_answers": answers}))


def start_server(out):
    proc = subprocess.Popen([sys.executable, "-m", "nnassign.cli", "review", str(out), "--port", "0",
                             "--config", str(ROOT / "assignment_config.yaml")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        m = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=(\S+)", line)
        if m:
            return proc, m.group(1), m.group(2)
    raise SystemExit("nnassign review did not start: " + proc.stdout.read())


def http_loads(base, token, loads):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    opener.open(f"{base}/?token={token}").read()
    times, size = [], 0
    for i in range(loads):
        start = time.perf_counter()
        size = len(opener.open(f"{base}/q/written_q{1 + i % 17}").read())
        times.append(time.perf_counter() - start)
    return opener, times, size


def saves(opener, base, token, ids, count):
    times = []
    for i in range(count):
        body = json.dumps({"student": ids[i % len(ids)], "question": f"written_q{1 + (i // len(ids)) % 17}",
                           "points": 1, "comment": "ok", "base_version": None}).encode()
        req = urllib.request.Request(f"{base}/api/score", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-Review-Token": token})
        start = time.perf_counter()
        with opener.open(req) as r:
            assert r.status == 200
            r.read()
        times.append(time.perf_counter() - start)
    return times


def browser_loads(base, token, loads):
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(f"{base}/?token={token}")
        times = []
        for i in range(loads):
            driver.get(f"{base}/q/written_q{1 + i % 17}")
            nav = driver.execute_script("const n = performance.getEntriesByType('navigation')[0];"
                                        "return [n.loadEventEnd, n.startTime];")
            times.append((nav[0] - nav[1]) / 1000)
        return times
    finally:
        driver.quit()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--saves", type=int, default=300)
    ap.add_argument("--loads", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-review-"))
    try:
        make_class(tmp, args.students)
        proc, base, token = start_server(tmp)
        try:
            opener, http, size = http_loads(base, token, args.loads)
            save = saves(opener, base, token, sorted(p.stem for p in (tmp / "results").glob("*.json")), args.saves)
            chrome = browser_loads(base, token, args.loads)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ms = lambda xs: f"{1000 * statistics.median(xs):.1f} ms"
    p95 = lambda xs: f"{1000 * sorted(xs)[int(0.95 * (len(xs) - 1))]:.1f} ms"
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine()) if Path("/proc/cpuinfo").exists() else platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"class: {args.students} submissions x 17 written answers; one question's page: {size / 1024:.0f} KiB")
    print(f"page load over HTTP (server + transfer), median of {len(http)}: {ms(http)}")
    if chrome:
        print(f"page load in headless Chromium (to the load event), median of {len(chrome)}: {ms(chrome)}")
    else:
        print("page load in Chromium: skipped (chromium / chromedriver not installed)")
    print(f"save latency (POST -> stored in SQLite -> answer), {len(save)} saves: median {ms(save)}, p95 {p95(save)}")


if __name__ == "__main__":
    main()
