"""HTML safe to show beside a ticket, by nh3 (the Rust ammonia library).

No script, style, forms, frames or event handlers; links get `rel="noopener noreferrer"`; inline
styles keep only text, colour and box properties (nothing that loads a URL); relative URLs go.
Links keep `http`, `https` and `mailto` URLs, read as a browser reads them (control characters
dropped before the scheme is checked). Images keep `cid:` sources only (the mail's own inline
images). Remote image sources are removed, not kept as links: a remote image tells the sender
when, and from where, an agent read the mail.
"""

from __future__ import annotations

import re
from functools import cache

import nh3

from shared.text import without_controls

_STYLE_PROPERTIES = frozenset(
    {
        "color",
        "background-color",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "text-align",
        "text-decoration",
        "vertical-align",
        "white-space",
        "line-height",
        "margin",
        "margin-top",
        "margin-right",
        "margin-bottom",
        "margin-left",
        "padding",
        "padding-top",
        "padding-right",
        "padding-bottom",
        "padding-left",
        "border",
        "border-left",
        "border-collapse",
        "width",
        "height",
    }
)


_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_IMAGE_SCHEMES = frozenset({"cid"})  # the mail's own parts: nothing loads from elsewhere
# A browser drops control characters from a URL before it reads the scheme (`java&#9;script:`,
# `&#1;data:`), so they go before the scheme is checked here too.
_URL_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _kept_attribute(element: str, attribute: str, value: str) -> str | None:
    if attribute not in _URL_ATTRIBUTES:
        return value
    if attribute == "src" and element != "img":
        return None
    url = without_controls(value, instead="").strip()
    scheme = _URL_SCHEME.match(url)
    allowed = _IMAGE_SCHEMES if attribute == "src" else _LINK_SCHEMES
    return url if scheme is not None and scheme.group(1).lower() in allowed else None


@cache
def _cleaner() -> nh3.Cleaner:
    table = {"width", "height", "bgcolor", "valign", "border", "cellpadding", "cellspacing"}
    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes["*"] = {"style", "dir", "lang", "title", "align"}
    attributes["font"] = {"color", "face", "size"}
    attributes["a"] = {"href", "hreflang", "title"}
    for tag in ("table", "td", "th", "tr", "tbody", "thead"):
        attributes[tag] = attributes.get(tag, set()) | table
    return nh3.Cleaner(
        tags=nh3.ALLOWED_TAGS | {"font"},
        clean_content_tags={"script", "style", "title", "template", "iframe", "object", "embed"},
        attributes=attributes,
        attribute_filter=_kept_attribute,
        url_schemes=set(_LINK_SCHEMES | _IMAGE_SCHEMES),
        filter_style_properties=set(_STYLE_PROPERTIES),
        url_relative="deny",
    )


def sanitize_html(markup: str) -> str:
    """HTML safe to show beside the ticket (see the module docstring for what is kept)."""
    return _cleaner().clean(markup)
