#!/usr/bin/python3
"""layout - how wide an HTML message or page lays out, in a real headless Chromium.

    layout.py CHROMIUM MESSAGE.eml|PAGE.html WIDTH...

Takes the text/html part of MESSAGE.eml (or PAGE.html itself, a web page such
as herald archive writes) and, for each WIDTH, loads it in an
iframe (srcdoc) of that width inside a wider page: headless Chromium makes
no window narrower than 500 px, an iframe can be any width. Prints one line
per width: "WIDTH SCROLLWIDTH", the width the document needs; wider than
WIDTH means the reader scrolls sideways.
"""
import email
import email.policy
import html
import os
import subprocess
import sys
import tempfile


def main():
    chromium, path, widths = sys.argv[1], sys.argv[2], [int(w) for w in sys.argv[3:]]
    if path.endswith(".html"):
        body = open(path, encoding="utf-8").read()
    else:
        msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
        body = msg.get_body(("html",)).get_content()
    frames = "".join(
        f'<iframe id="f{w}" style="width:{w}px;height:800px;border:0;display:block" '
        f'srcdoc="{html.escape(body, quote=True)}"></iframe>' for w in widths)
    script = """
<script>
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('iframe').forEach(function (f) {
    var d = f.contentDocument;
    out.push(f.id.slice(1) + ' ' + Math.max(d.documentElement.scrollWidth, d.body.scrollWidth));
  });
  var p = document.createElement('pre');
  p.id = 'result';
  p.textContent = out.join('\\n');
  document.body.appendChild(p);
});
</script>"""
    page = f"<!doctype html><html><body style='margin:0;width:1200px'>{frames}{script}</body></html>"
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "page.html"), "w") as f:
            f.write(page)
        out = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--user-data-dir=" + os.path.join(tmp, "profile"), "--virtual-time-budget=5000",
             "--window-size=1280,2000", "--dump-dom", "file://" + os.path.join(tmp, "page.html")],
            capture_output=True, text=True, timeout=120)
    dom = out.stdout
    start = dom.find('<pre id="result">')
    if start < 0:
        sys.exit("layout: no measurement in the page Chromium rendered:\n" + out.stderr[-2000:])
    print(html.unescape(dom[start + len('<pre id="result">'):dom.find("</pre>", start)]))


if __name__ == "__main__":
    main()
