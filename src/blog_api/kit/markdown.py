"""Markdown for post content: rendered once, when it is written, to sanitised HTML, and what lists
show of it (the excerpt, the reading time), taken from the plain text of that HTML.

- Markdown is CommonMark plus GitHub's tables, strikethrough and autolinks (markdown-it-py's
  "gfm-like" preset; the autolinks through linkify-it-py). Raw HTML in the Markdown is parsed
  as Markdown allows, and left to the sanitiser.
- The sanitiser is nh3 (the Python binding of the Rust crate ammonia), an allow-list: the tags
  and attributes of ammonia's defaults (no `script`, `style`, `iframe`, `form`, `object`; no
  event-handler attribute, no `style` attribute), URLs only with the http, https and mailto
  schemes or relative (so no `javascript:` or `data:` URL), and every link gets
  `rel="nofollow noopener"`. A fenced code block keeps its `language-*` class, for highlighters;
  a table column's alignment is kept as `align` (markdown-it writes it as a `style`).
- Plain text: the sanitised HTML's text, each block on its own, whitespace collapsed; images
  are counted (the reading time gives each 12 seconds).

Rendering is CPU work: `render` is a plain function, which the service runs through
`render_off_loop`, in a worker thread for all but short texts, so that a long post never stalls
the event loop.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from blog_api.kit.rules import excerpt

# Words a minute, and what an image adds: 12 seconds, so 275 / 5 = 55 words' worth each.
WORDS_PER_MINUTE = 275
WORDS_PER_IMAGE = WORDS_PER_MINUTE // 5

LINK_REL = "nofollow noopener"
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_CODE_LANGUAGE = re.compile(r"language-[A-Za-z0-9_+#.-]{1,64}")
_ALIGN = re.compile(r"text-align:(left|center|right)")


def _alignment_as_attribute(state: StateCore) -> None:
    """A table cell's alignment, which markdown-it writes as `style="text-align:..."`, as the
    `align` attribute instead: the sanitiser keeps `align` and drops every `style`."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style")
            if isinstance(style, str):
                del token.attrs["style"]
                match = _ALIGN.fullmatch(style)
                if match:
                    token.attrSet("align", match.group(1))


_MARKDOWN = MarkdownIt("gfm-like")
_MARKDOWN.core.ruler.push("alignment_as_attribute", _alignment_as_attribute)

_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()
}
_ATTRIBUTES.setdefault("code", set()).add("class")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Only a `language-*` class on `code` (what fenced code blocks carry) of all classes."""
    if attribute == "class":
        return value if tag == "code" and _CODE_LANGUAGE.fullmatch(value) else None
    return value


_CLEANER = nh3.Cleaner(
    attributes=_ATTRIBUTES,
    attribute_filter=_keep_attribute,
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
)

# Elements whose text stands apart from what comes before and after it.
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "",
    }
)


class _PlainText(HTMLParser):
    """The text of sanitised HTML, blocks apart, and how many images it shows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


@dataclass(frozen=True, slots=True)
class Rendered:
    """What is stored beside a post's Markdown: its HTML, its excerpt, its reading time."""

    html: str
    excerpt: str
    reading_time: int


def sanitize(html: str) -> str:
    """`html` with only what the allow-list lets through (see the module's docstring)."""
    return _CLEANER.clean(html)


def reading_time(words: int, images: int) -> int:
    """Whole minutes, at least 1: ceil(words / 275 + 0.2 * images), in integers (exact)."""
    return max(1, -(-(words + WORDS_PER_IMAGE * images) // WORDS_PER_MINUTE))


def render(markdown: str) -> Rendered:
    """Markdown to sanitised HTML, with the excerpt and reading time of its plain text."""
    html = sanitize(_MARKDOWN.render(markdown))
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    words = "".join(parser.parts).split()
    return Rendered(html, excerpt(" ".join(words)), reading_time(len(words), parser.images))


# Up to this many characters a render runs on the event loop: it takes about 0.2 ms for prose
# and at most about 3 ms when dense with autolinks, where a trip to a worker thread costs some
# 0.7 ms of CPU itself.
RENDER_ON_LOOP_LIMIT = 500
# One render at a time per event loop: markdown-it-py is pure Python and holds the GIL, so two
# renders in two threads take as long as one after the other, and crowd the event loop more.
_limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()


async def render_off_loop(markdown: str) -> Rendered:
    """`render`, in a worker thread unless the text is short: one of a 100,000-character post
    of prose takes about 165 ms here (markdown-it 130, nh3 7, the plain text 25), up to 2 s when
    dense with autolinks, which on the event loop would stall every other request as long."""
    if len(markdown) <= RENDER_ON_LOOP_LIMIT:
        return render(markdown)
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(1)
    return await anyio.to_thread.run_sync(render, markdown, limiter=limiter)
