"""Turning what a user wrote into safe HTML, the way Mastodon clients expect it.

The text is split into tokens (links, @mentions, #hashtags and plain text); every piece of user text
is HTML-escaped, and the only markup emitted is the fixed set below. No user-supplied attribute or tag
ever reaches the output, so nothing a user writes can run in a client.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

#: http(s) links; a trailing punctuation mark is left out of the link, as people expect.
_URL = r"https?://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]"
#: @user, @user@domain (remote accounts are shown but not resolved).
_MENTION = r"(?<![\w@/])@(?P<user>[A-Za-z0-9_]{1,30})(?:@(?P<domain>[A-Za-z0-9.-]+\.[A-Za-z]{2,}))?"
#: #hashtag: letters, digits and underscores, not all digits.
_HASHTAG = r"(?<![\w&/#])#(?P<tag>\w*[^\W\d]\w*)"
_TOKENS = re.compile(f"(?P<url>{_URL})|{_MENTION}|{_HASHTAG}", re.UNICODE)


@dataclass
class Rendered:
    html: str
    mentions: list[str] = field(default_factory=list)  # lower-cased local usernames
    tags: list[str] = field(default_factory=list)  # lower-cased tag names


def extract_tags(text: str) -> list[str]:
    return list(dict.fromkeys(m.group("tag").lower() for m in _TOKENS.finditer(text) if m.group("tag")))


def extract_mentions(text: str) -> list[str]:
    return list(dict.fromkeys(
        m.group("user").lower() for m in _TOKENS.finditer(text) if m.group("user") and not m.group("domain")
    ))


def _link(url: str) -> str:
    shown = re.sub(r"^https?://(www\.)?", "", url)
    short = shown if len(shown) <= 30 else shown[:30] + "…"
    return (f'<a href="{escape(url, quote=True)}" target="_blank" rel="nofollow noopener noreferrer">'
            f"{escape(short)}</a>")


def render(text: str, *, base_url: str, account_url: Callable[[str], str | None]) -> Rendered:
    """Render `text` to HTML. `account_url(username)` gives a local account's URL, or None."""
    result = Rendered(html="")
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()] if text.strip() else []
    out: list[str] = []
    for paragraph in paragraphs:
        pieces: list[str] = []
        pos = 0
        for match in _TOKENS.finditer(paragraph):
            pieces.append(escape(paragraph[pos:match.start()]))
            pos = match.end()
            if match.group("url"):
                pieces.append(_link(match.group("url")))
            elif match.group("user"):
                user, domain = match.group("user"), match.group("domain")
                url = None if domain else account_url(user.lower())
                if url is None:
                    pieces.append(escape(match.group(0)))
                    continue
                result.mentions.append(user.lower())
                pieces.append(f'<span class="h-card"><a href="{escape(url, quote=True)}" class="u-url mention">'
                              f"@<span>{escape(user)}</span></a></span>")
            else:
                tag = match.group("tag")
                result.tags.append(tag.lower())
                href = f"{base_url}/tags/{quote(tag.lower())}"
                pieces.append(f'<a href="{escape(href, quote=True)}" class="mention hashtag" rel="tag">'
                              f"#<span>{escape(tag)}</span></a>")
        pieces.append(escape(paragraph[pos:]))
        out.append("<p>" + "".join(pieces).replace("\n", "<br />") + "</p>")
    result.html = "".join(out)
    result.mentions = list(dict.fromkeys(result.mentions))
    result.tags = list(dict.fromkeys(result.tags))
    return result


def plain(text: str) -> str:
    """Escape a short single-line user string (display names, spoiler text) for HTML."""
    return escape(text)
