"""The text of an e-mail as a case keeps it: HTML reduced to text, and the quoted history
of earlier messages trimmed (the case already holds those messages)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                     "table", "ul", "ol", "pre", "hr"})  # fmt: skip
_SKIPPED = frozenset({"script", "style", "head", "title", "blockquote"})
"""Never text a reader sees, or (blockquote) the quoted history mail clients wrap in it."""

# "On Mon, 1 Dec 2026 at 10:00, Ana <ana@example.com> wrote:" and its Portuguese and
# Spanish forms; mail clients wrap a long attribution over two lines.
_ATTRIBUTION_END = re.compile(r"(wrote|escreveu|escribió)\s*:\s*$", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^\s*(On|Em|El)\s", re.IGNORECASE)
_FORWARD_MARKERS = re.compile(
    r"^\s*-{2,}\s*(Original Message|Mensagem original|Mensaje original)\s*-{2,}\s*$",
    re.IGNORECASE,
)


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return _collapse_blank_lines(lines)


def _collapse_blank_lines(lines: list[str]) -> str:
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


def trim_quoted(text: str) -> str:
    """The new part of a reply: everything from an attribution line ("On … wrote:") or an
    "Original Message" marker on is cut, and ``>`` quoted lines dropped. A message that
    is nothing but quotation is kept whole: trimming must never leave a case without the
    customer's words."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _FORWARD_MARKERS.match(line):
            break
        if _ATTRIBUTION_END.search(line):
            if _ATTRIBUTION_START.match(line):
                break
            if index > 0 and _ATTRIBUTION_START.match(lines[index - 1]) and kept:
                kept.pop()  # the attribution's first line, wrapped
                break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    trimmed = _collapse_blank_lines(kept)
    return trimmed or text.strip()
