"""The paginator on hand-built Auvo responses: every stop signal, loops, completeness."""

from __future__ import annotations

import pytest

from sync_apis.auvo.paging import (
    LIST_ENVELOPE,
    BadEnvelopeError,
    Paginator,
    RepeatedPageError,
    envelope_problem,
)
from sync_apis.http import ApiError


def envelope(ids, *, total, page, size=2, next_link=True):
    links = [{"href": "…", "rel": "self", "method": "GET"}]
    if next_link:
        links.append({"href": "…", "rel": "nextPage", "method": "GET"})
    return {
        "result": {
            "entityList": [{"id": i} for i in ids],
            "pagedSearchReturnData": {"order": 0, "pageSize": size, "page": page, "totalItems": total},
            "links": links,
        }
    }


def drain(pg, answers):
    got = []
    for status, payload in answers:
        assert not pg.done
        got += pg.feed(status, payload)
    return got


def test_total_items_reached_stops_without_asking_for_another_page():
    pg = Paginator(page_size=2)
    got = drain(pg, [(200, envelope([1, 2], total=4, page=1)), (200, envelope([3, 4], total=4, page=2))])
    assert [r["id"] for r in got] == [1, 2, 3, 4]
    assert pg.done and pg.complete and pg.stop_reason == "totalItems reached"
    assert pg.pages_expected == 2


def test_short_page_stops():
    pg = Paginator(page_size=2)
    drain(pg, [(200, envelope([1, 2], total=None, page=1)), (200, envelope([3], total=None, page=2))])
    assert pg.done and pg.complete and pg.stop_reason == "short page"


def test_404_past_the_end_stops_and_is_complete_when_counts_match():
    pg = Paginator(page_size=2)
    drain(pg, [(200, envelope([1, 2], total=None, page=1)), (404, None)])
    assert pg.done and pg.complete and pg.stop_reason == "404 past the last page"


def test_404_on_page_one_is_empty_but_never_complete():
    pg = Paginator(page_size=2)
    assert pg.feed(404, None) == []
    assert pg.done and not pg.complete
    assert pg.total_items == 0


def test_missing_next_link_stops_and_a_short_count_is_incomplete():
    pg = Paginator(page_size=2)
    drain(pg, [(200, envelope([1, 2], total=6, page=1, next_link=False))])
    assert pg.done and pg.stop_reason == "no nextPage link"
    assert not pg.complete  # 2 received, 6 announced


def test_404_before_total_is_reached_is_incomplete():
    pg = Paginator(page_size=2)
    drain(pg, [(200, envelope([1, 2], total=5, page=1)), (404, None)])
    assert pg.done and not pg.complete


def test_repeated_page_is_a_loop_not_progress_and_does_not_advance():
    pg = Paginator(page_size=2)
    pg.feed(200, envelope([1, 2], total=4, page=1))
    with pytest.raises(RepeatedPageError):
        pg.feed(200, envelope([1, 2], total=4, page=2))
    assert pg.page == 2 and pg.received == 2 and not pg.done
    assert [r["id"] for r in pg.feed(200, envelope([3, 4], total=4, page=2))] == [3, 4]
    assert pg.complete


def test_params_carry_page_and_page_size():
    pg = Paginator(page_size=100)
    assert pg.params() == {"page": 1, "pageSize": 100}
    pg.feed(200, envelope(range(100), total=250, page=1, size=100))
    assert pg.params() == {"page": 2, "pageSize": 100}
    assert pg.pages_expected == 3


def test_server_clamped_page_size_is_not_a_short_page():
    pg = Paginator(page_size=100)
    pg.feed(200, envelope(range(50), total=120, page=1, size=50))
    assert not pg.done


def test_bare_array_result_is_one_complete_page():
    pg = Paginator()
    got = pg.feed(200, {"result": [{"id": 1}, {"id": 2}]})
    assert len(got) == 2 and pg.done and pg.complete


def test_body_without_result_is_an_error():
    with pytest.raises(BadEnvelopeError):
        Paginator().feed(200, {"message": "oops"})


def test_feeding_a_finished_listing_is_a_bug():
    pg = Paginator()
    pg.feed(404, None)
    with pytest.raises(RuntimeError):
        pg.feed(404, None)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([{"id": 1}], "a JSON list instead of an object"),
        (None, "a JSON null instead of an object"),
        ("<html>", "a JSON string instead of an object"),
        ({"error": "x"}, "an object without 'result'"),
        ({"result": None}, "'result' is null"),
        ({"result": "ok"}, "'result' is string"),
        (
            {"result": {"entityList": None, "pagedSearchReturnData": {"totalItems": 3}}},
            "'result.entityList' is null",
        ),
        ({"result": {"pagedSearchReturnData": {"totalItems": 3}}}, "'result.entityList' is null"),
        ({"result": {"entityList": {"id": 1}}}, "'result.entityList' is object"),
    ],
)
def test_undocumented_envelopes_are_named_never_read_as_empty(payload, problem):
    assert problem in (envelope_problem(payload) or "")
    with pytest.raises(BadEnvelopeError, match=problem) as err:
        Paginator().feed(200, payload)
    assert isinstance(err.value, ApiError) and err.value.status == 200


@pytest.mark.parametrize(
    "payload",
    [envelope([], total=0, page=1), {"result": []}, {"result": [{"id": 1}]}, envelope([1], total=1, page=1)],
)
def test_documented_envelopes_pass_the_check(payload):
    assert LIST_ENVELOPE.problem(payload) is None
