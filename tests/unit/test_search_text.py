"""Ticket search's words and queries, on no emulator: folding, stems, phrases, prefixes, the
query's syntax and its limits, and snippets."""

from __future__ import annotations

import pytest

from services.tickets.logic.search_text import (
    MAX_QUERY_LENGTH,
    BadQuery,
    Clause,
    Terms,
    fold,
    parse_query,
    posting_keys,
    snippet,
    words,
)


def _terms(text: str) -> Terms:
    terms = Terms.empty()
    terms.add(text)
    return terms


def test_folding_drops_case_and_accents() -> None:
    assert fold("Zoë MÜLLER, Café Ångström") == "zoe muller, cafe angstrom"
    assert words("The printer's jam—again!") == ["the", "printer", "s", "jam", "again"]


def test_words_of_other_scripts_are_words_too() -> None:
    assert words("Привет мир") == ["привет", "мир"]


def test_a_text_keeps_its_words_their_stems_and_the_pairs_that_follow() -> None:
    terms = _terms("Printers jamming")
    assert terms.words == {"printers", "jamming"}
    assert terms.stems == {"printer", "jam"}
    assert terms.pairs == {"printer jam"}


def test_postings_are_per_stem_and_per_first_letters_but_not_for_stopwords() -> None:
    assert posting_keys(_terms("the printer")) == {"W#printer", "P#pri"}


def test_loose_words_are_words_and_the_last_one_a_prefix() -> None:
    query = parse_query("printer mor")
    assert query.clauses == (Clause("word", ("printer",)), Clause("prefix", ("mor",)))


def test_quotes_make_a_phrase_and_a_quoted_last_word_is_no_prefix() -> None:
    query = parse_query('"printer jam" "toner"')
    assert query.clauses == (Clause("phrase", ("printer", "jam")), Clause("word", ("toner",)))


def test_a_word_written_as_several_is_a_phrase() -> None:
    assert parse_query("TKT-0042").clauses == (Clause("phrase", ("tkt", "0042")),)


def test_a_phrase_matches_only_in_its_order() -> None:
    terms = _terms("The printer jams on Monday")
    assert parse_query('"printer jammed"').matches(terms)
    assert not parse_query('"jam printer"').matches(terms)


def test_a_prefix_matches_the_start_of_a_word_and_a_whole_word_by_its_stem() -> None:
    terms = _terms("Happy printing")
    assert parse_query("prin").matches(terms)
    assert parse_query("happy").matches(terms)
    assert parse_query("printed").matches(terms)
    assert not parse_query("scan").matches(terms)


def test_the_longest_word_drives_the_query_and_a_lone_prefix_its_first_letters() -> None:
    assert parse_query("the printer jam").driver() == "W#printer"
    assert parse_query("prin").driver() == "P#pri"
    assert parse_query("pr").driver() == "W#pr"
    assert parse_query("the").driver() is None


@pytest.mark.parametrize("q", ["", "   ", '""', "!!", "x" * (MAX_QUERY_LENGTH + 1), "a " * 9])
def test_a_query_with_nothing_to_find_or_too_much_is_refused(q: str) -> None:
    with pytest.raises(BadQuery):
        parse_query(q)


def test_a_snippet_marks_the_matched_words_around_the_first_one() -> None:
    text = "Hello. " + "word " * 30 + "The printer jams every morning. " + "tail " * 40
    shown, found = snippet(parse_query("jam morn"), text) or (0, "")
    assert shown == 2
    assert "The printer **jams** every **morning**." in found
    assert found.startswith("…")
    assert found.endswith("…")
    assert snippet(parse_query("scanner"), text) is None
