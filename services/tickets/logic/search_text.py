"""The words of ticket search: how text becomes terms, how a query is read, and the snippet that
shows where a ticket matched.

Text is compared without case or accents (Unicode NFKD with the combining marks dropped, then
case-folded) and by English stem ("printers", "printing" and "printed" all find "print").

Query syntax: words separated by spaces must all match; `"printer jam"` (in double quotes) must
match as a phrase; a word written as several, such as `TKT-0042` or an address, is a phrase too;
the last word, unless quoted, also matches as a prefix (`prin` finds "printer"), so results
follow someone typing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from typing import Literal

import snowballstemmer

MAX_QUERY_LENGTH = 200
MAX_CLAUSES = 8
PREFIX_LENGTH = 3  # prefix postings hold a word's first letters; shorter prefixes match exactly
SNIPPET_BEFORE = 60
SNIPPET_AFTER = 120
MARK = "**"
_WORD = re.compile(r"\w+")
_QUOTED = re.compile(r'"([^"]*)"?')
# Words too common to be worth a posting list of their own; they still count in phrases.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "there",
        "this",
        "to",
        "was",
        "we",
        "were",
        "will",
        "with",
        "you",
        "your",
    ]
)


@cache
def _stemmer() -> snowballstemmer.Stemmer:
    return snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Lower case without accents: "Café" and "cafe" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=50_000)  # a warm function meets the same words again and again
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return _WORD.findall(fold(text))


@dataclass
class Terms:
    """What the index knows of a text: its words (for prefixes), their stems, and the pairs of
    stems that follow each other (for phrases)."""

    words: set[str]
    stems: set[str]
    pairs: set[str]

    @classmethod
    def empty(cls) -> Terms:
        return cls(set(), set(), set())

    def add(self, text: str) -> None:
        folded = words(text)
        stems = [stem(w) for w in folded]
        self.words.update(folded)
        self.stems.update(stems)
        self.pairs.update(f"{a} {b}" for a, b in pairwise(stems))


def posting_keys(terms: Terms) -> set[str]:
    """The posting lists a ticket with these terms belongs to: one per stem (but stopwords) and
    one per first letters of its words, for prefix search."""
    keys = {f"W#{s}" for s in terms.stems if s not in STOPWORDS}
    keys.update(
        f"P#{w[:PREFIX_LENGTH]}"
        for w in terms.words
        if len(w) >= PREFIX_LENGTH and w not in STOPWORDS
    )
    return keys


ClauseKind = Literal["word", "phrase", "prefix"]


@dataclass(frozen=True)
class Clause:
    kind: ClauseKind
    words: tuple[str, ...]  # folded

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(stem(w) for w in self.words)

    def matches(self, terms: Terms) -> bool:
        if self.kind == "prefix":
            prefix = self.words[0]
            return stem(prefix) in terms.stems or any(w.startswith(prefix) for w in terms.words)
        stems = self.stems
        if not all(s in terms.stems for s in stems):
            return False
        return all(f"{a} {b}" in terms.pairs for a, b in pairwise(stems))

    def marks(self, word: str) -> bool:
        """Whether a (folded) word of a text is one this clause looks for, for snippets."""
        if self.kind == "prefix" and word.startswith(self.words[0]):
            return True
        return stem(word) in self.stems


@dataclass(frozen=True)
class SearchQuery:
    clauses: tuple[Clause, ...]

    def matches(self, terms: Terms) -> bool:
        return all(clause.matches(terms) for clause in self.clauses)

    def driver(self) -> str | None:
        """The posting list to read candidates from: the longest stem (likely the rarest), or
        the prefix's list when the query has no other word; None when nothing is indexed (only
        stopwords)."""
        stems = [s for c in self.clauses if c.kind != "prefix" for s in c.stems]
        stems = [s for s in stems if s not in STOPWORDS]
        if stems:
            return f"W#{max(stems, key=len)}"
        for clause in self.clauses:
            prefix = clause.words[0]
            if len(prefix) >= PREFIX_LENGTH and prefix not in STOPWORDS:
                return f"P#{prefix[:PREFIX_LENGTH]}"
            if stem(prefix) not in STOPWORDS:
                return f"W#{stem(prefix)}"
        return None


class BadQuery(ValueError):
    """A query with nothing to look for, or more than the search takes."""


def parse_query(text: str) -> SearchQuery:
    if len(text) > MAX_QUERY_LENGTH:
        raise BadQuery(f"at most {MAX_QUERY_LENGTH} characters")
    clauses: list[Clause] = []
    last = 0
    for match in _QUOTED.finditer(text):
        clauses += _loose(text[last : match.start()], typing=False)
        quoted = tuple(words(match.group(1)))
        if quoted:
            clauses.append(Clause("word" if len(quoted) == 1 else "phrase", quoted))
        last = match.end()
    clauses += _loose(text[last:], typing=True)
    if not clauses:
        raise BadQuery("give at least one word to look for")
    if len(clauses) > MAX_CLAUSES:
        raise BadQuery(f"at most {MAX_CLAUSES} words or phrases")
    return SearchQuery(tuple(dict.fromkeys(clauses)))


def _loose(text: str, typing: bool) -> list[Clause]:
    """Unquoted words; `typing`: the text ends the query, so its last word may be unfinished."""
    chunks = text.split()
    clauses: list[Clause] = []
    for i, chunk in enumerate(chunks):
        found = tuple(words(chunk))
        if len(found) > 1:
            clauses.append(Clause("phrase", found))
        elif found:
            unfinished = typing and i == len(chunks) - 1
            clauses.append(Clause("prefix" if unfinished else "word", found))
    return clauses


def snippet(query: SearchQuery, text: str) -> tuple[int, str] | None:
    """A short passage of `text` around its first matching word, the matching words wrapped in
    `**`, and how many of the query's clauses it shows; None if no word of the text matches."""
    spans, shown = [], set()
    for m in _WORD.finditer(text):
        marked = [c for c in query.clauses if c.marks(fold(m.group()))]
        if marked:
            spans.append((m.start(), m.end()))
            shown.update(marked)
    if not spans:
        return None
    start = max(0, spans[0][0] - SNIPPET_BEFORE)
    end = min(len(text), spans[0][1] + SNIPPET_AFTER)
    if start > 0:  # begin and end on whole words
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < spans[0][0] else start
    if end < len(text):
        space = text.rfind(" ", spans[0][1], end)
        end = space if space > 0 else end
    parts, at = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        parts += [text[at:s], MARK, text[s:e], MARK]
        at = e
    parts.append(text[at:end])
    body = " ".join("".join(parts).split())
    return len(shown), ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
