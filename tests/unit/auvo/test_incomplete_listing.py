"""A listing whose pages do not add up to the API's own totalItems fails as an ApiError that
names the connection, the endpoint and the status of the answer it stopped on."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sync_apis.auvo.hook import Listing
from sync_apis.auvo.paging import Paginator
from sync_apis.auvo.sync import IncompleteListingError, StreamRun
from sync_apis.http import ApiError


def test_an_incomplete_listing_is_an_api_error_naming_connection_endpoint_and_status() -> None:
    hook = SimpleNamespace(auvo_conn_id="auvo_prod")
    run = StreamRun.__new__(StreamRun)  # only require_complete is exercised: no load, no table
    run.hook = hook  # type: ignore[assignment]
    pg = Paginator(page_size=100)
    page = {
        "result": {"entityList": [{"userID": 1}, {"userID": 2}], "pagedSearchReturnData": {"totalItems": 5}}
    }
    pg.feed(200, page)  # a short page: the listing ends with 2 of the 5 records the API counts
    listing = Listing(hook, "users/", {}, pg)  # type: ignore[arg-type]

    with pytest.raises(IncompleteListingError) as err:
        run.require_complete(listing, "auvo.users")
    assert isinstance(err.value, ApiError)
    assert (err.value.connection, err.value.endpoint, err.value.status) == ("auvo_prod", "/users", 200)
    assert "connection 'auvo_prod': GET /users" in str(err.value)
    assert "received 2 records but the API reported totalItems=5" in str(err.value)
