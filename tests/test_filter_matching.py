"""Filter keyword matching as Mastodon's CustomFilter does it (pure functions, no server)."""

from __future__ import annotations

import pytest

from warden.platform.filters import keyword_pattern, searchable_text


@pytest.mark.parametrize(("keyword", "whole_word", "text", "matches"), [
    ("cat", True, "My Cat! sleeps", True),
    ("cat", True, "a category", False),
    ("cat", False, "a category", True),
    ("CAT", False, "concatenate", True),
    ("#tag", True, "about #tag today", True),       # no word boundary needed before '#'
    ("#tag", True, "about #tagged today", False),
    ("c++", True, "I write c++ daily", True),        # nor after '+'
    ("from birdsite", True, "posted from birdsite.", True),
    ("élan", True, "avec élan!", True),              # word characters are Unicode
    ("a.b", False, "axb", False),                    # keywords are literal, not patterns
])
def test_keyword_pattern(keyword: str, whole_word: bool, text: str, matches: bool) -> None:
    assert bool(keyword_pattern(keyword, whole_word).search(text)) is matches


def test_searchable_text_is_the_warning_and_the_posts_text_without_markup() -> None:
    text = searchable_text('<p>Hello &amp; <a href="https://x.example/tags/cat">#<span>cat</span></a></p><p>bye</p>',
                           "spoiler")
    assert text.startswith("spoiler\n\n")
    assert "Hello & #cat" in text and "<" not in text
    assert bool(keyword_pattern("#cat", True).search(text))
