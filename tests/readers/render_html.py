#!/usr/bin/env python3
"""Renders an HTML report in headless Chromium (Debian package `chromium`): takes a screenshot
and reads the rendered DOM back, then prints the text of #findings-count, the title and every
external resource the page refers to (there must be none) as JSON. Chromium missing or failing
is an error, never a skip."""
import html.parser
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.capture = None
        self.texts = {}
        self.external = []
        self.title = ""
        self.in_title = False
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "title":
            self.in_title = True
        for key in ("src", "href", "data", "poster"):
            v = (a.get(key) or "").strip().lower()
            if v.startswith(("http:", "https:", "//", "ftp:")) or (tag == "link" and key == "href" and v):
                self.external.append(f"{tag} {key}={a.get(key)}")
        if "id" in a:
            self.capture = a["id"]
            self.texts.setdefault(self.capture, "")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        self.capture = None

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self.capture is not None:
            self.texts[self.capture] += data


def main(path):
    browser = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    url = pathlib.Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory() as tmp:
        shot = pathlib.Path(tmp) / "report.png"
        common = FLAGS + [f"--user-data-dir={tmp}/profile", "--window-size=1280,2000"]
        s = subprocess.run([browser, *common, f"--screenshot={shot}", url],
                           capture_output=True, text=True, timeout=180)
        if s.returncode != 0 or not shot.is_file():
            print(f"chromium screenshot failed ({s.returncode}): {s.stderr[-2000:]}", file=sys.stderr)
            return 1
        png = shot.read_bytes()
        d = subprocess.run([browser, *common, "--dump-dom", url],
                           capture_output=True, text=True, timeout=180)
        if d.returncode != 0 or "<html" not in d.stdout:
            print(f"chromium --dump-dom failed ({d.returncode}): {d.stderr[-2000:]}", file=sys.stderr)
            return 1
    dom = Dom()
    dom.feed(d.stdout)
    out = {
        "findings_count": dom.texts.get("findings-count"),
        "title": dom.title,
        "png": png[:8] == b"\x89PNG\r\n\x1a\n",
        "screenshot_bytes": len(png),
        "external": dom.external,
        "scripts": dom.scripts,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
