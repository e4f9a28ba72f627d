"""Direct reads on SQLite (`Database.direct_read`, `store/direct.py`): the hottest reads (a home page,
an uncached token) on SQLite's own connection give exactly what the ORM session gives."""

from __future__ import annotations

import sqlite3

import orjson
import pytest

from tests.helpers import LiveServer
from tests.test_home_timeline import home, post
from warden.api import serializers
from warden.api.serializers import Presenter
from warden.platform import timelines

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # direct reads are SQLite's


@SQLITE
def test_a_direct_home_page_is_the_sessions_page_byte_for_byte(server: LiveServer) -> None:
    author, reader = server.user("author"), server.user("reader")
    reader.post(f"/api/v1/accounts/{author.id}/follow")
    author.request("PATCH", "/api/v1/accounts/update_credentials", data={"locked": "true", "bot": "true"})
    flagged = post(author, "look #Here", sensitive="true", spoiler_text="cw")
    plain = [post(author, f"plain {n}") for n in range(4)]
    own = post(reader, "my own")
    reader.post(f"/api/v1/statuses/{flagged['id']}/favourite")
    reader.post(f"/api/v1/statuses/{plain[0]['id']}/bookmark")
    windows = [{}, {"limit": 2}, {"max_id": int(plain[2]["id"])}, {"since_id": int(plain[0]["id"])},
               {"min_id": int(flagged["id"]), "limit": 3}]
    for window in windows:
        with server.db.direct_read() as conn:
            direct = timelines.home_page_direct(conn, reader.id, **window)
        assert direct is not None and not serializers.page_needs_general(direct)
        with server.db.read() as session:
            rows = timelines.home_page(session, reader.id, **window)
            serializers._page_status_json.cache_clear()
            serializers._account_json.cache_clear()
            expected = Presenter(session, server.settings, reader.id).page_json(rows)
        assert [tuple(row) for row in direct] == [tuple(row) for row in rows]  # 1 == True: SQLite's booleans
        serializers._page_status_json.cache_clear()
        serializers._account_json.cache_clear()
        assert serializers.cached_page_json(server.settings.base_url, reader.id, direct) == expected, window
    page = home(reader)  # served by the direct path, as JSON booleans
    first = next(s for s in page if s["id"] == flagged["id"])
    assert first["favourited"] is True and first["sensitive"] is True and first["bookmarked"] is False
    assert first["account"]["locked"] is True and first["account"]["bot"] is True
    assert next(s for s in page if s["id"] == plain[0]["id"])["bookmarked"] is True
    assert own["id"] in [s["id"] for s in page]
    # a reblog on the page: the direct rows go to the general path, which renders the session's page
    booster = server.user("booster")
    reader.post(f"/api/v1/accounts/{booster.id}/follow")
    assert booster.post(f"/api/v1/statuses/{plain[1]['id']}/reblog").status_code == 200
    with server.db.direct_read() as conn:
        assert serializers.page_needs_general(timelines.home_page_direct(conn, reader.id))
    with server.db.read() as session:
        expected_page = orjson.loads(Presenter(session, server.settings, reader.id).page_json(
            timelines.home_page(session, reader.id)))
    served = home(reader)
    assert served == expected_page and served[0]["reblog"]["id"] == plain[1]["id"]


@SQLITE
def test_a_viewer_who_follows_hashtags_gets_the_merged_page(server: LiveServer) -> None:
    """The direct read leaves a viewer who follows hashtags to `home_page`, which merges the tagged posts."""
    stranger, reader = server.user("stranger"), server.user("reader")
    tagged = post(stranger, "about #gardening")
    with server.db.direct_read() as conn:
        assert timelines.home_page_direct(conn, reader.id) == []
    assert reader.post("/api/v1/tags/gardening/follow").status_code == 200
    with server.db.direct_read() as conn:
        assert timelines.home_page_direct(conn, reader.id) is None
    assert [s["id"] for s in home(reader)] == [tagged["id"]]


@SQLITE
def test_the_direct_read_connection_cannot_write(server: LiveServer) -> None:
    user = server.user("writer")
    post(user, "kept")
    with pytest.raises(sqlite3.OperationalError, match="readonly"), server.db.direct_read() as conn:
        conn.execute("DELETE FROM statuses")
    assert len(home(user)) == 1


@SQLITE
def test_a_token_read_directly_is_the_token_the_session_reads(server: LiveServer) -> None:
    from datetime import UTC, datetime

    from warden.platform import auth
    from warden.store.models import Account

    user, suspended = server.user("holder"), server.user("suspended")
    with server.db.write() as session:
        app_token = auth.issue_token(session, app_id=None, account_id=None, scopes="read").access_token
        revoked = auth.issue_token(session, app_id=None, account_id=user.id, scopes="read").access_token
        auth.revoke_token(session, revoked)
        session.get(Account, suspended.id).suspended_at = datetime.now(UTC)
    for raw in (user.token, suspended.token, app_token, revoked, "never-issued"):
        with server.db.read() as session:
            expected = auth.lookup_token(session, raw)
        with server.db.direct_read() as conn:
            assert auth.lookup_token_direct(conn, raw) == expected, raw
    with server.db.direct_read() as conn:
        assert auth.lookup_token_direct(conn, suspended.token).suspended is True
        assert auth.lookup_token_direct(conn, user.token).suspended is False
        assert auth.lookup_token_direct(conn, app_token).account_id is None
        assert auth.lookup_token_direct(conn, revoked) is None


def test_a_direct_statement_refuses_columns_sqlalchemy_would_convert() -> None:
    from sqlalchemy import select

    from warden.store.direct import compile_direct
    from warden.store.models import Status

    with pytest.raises(TypeError, match="created_at"):
        compile_direct(select(Status.id, Status.created_at))  # SQLite gives text; SQLAlchemy a datetime
    with pytest.raises(TypeError, match="sensitive"):
        compile_direct(select(Status.sensitive))
    direct = compile_direct(select(Status.id, Status.sensitive), frozenset({"sensitive"}))
    assert direct.names == () and direct.row._fields == ("id", "sensitive")


@SQLITE
def test_an_object_loaded_directly_is_the_one_the_session_loads(server: LiveServer) -> None:
    from sqlalchemy import inspect

    from warden.store.direct import load_detached
    from warden.store.models import Account, Status

    user = server.user("loaded")
    user.request("PATCH", "/api/v1/accounts/update_credentials", data={"locked": "true", "note": "<b>hi</b>"})
    status = post(user, f"hello @{user.username} #Tag", spoiler_text="cw")
    for model, pk in ((Account, user.id), (Status, int(status["id"]))):
        with server.db.read() as session:
            expected = session.get(model, pk)
        with server.db.direct_read() as conn:
            loaded = load_detached(conn, model, pk)
            assert load_detached(conn, model, 10**12) is None
        columns = [attr.key for attr in inspect(model).column_attrs]
        assert {k: getattr(loaded, k) for k in columns} == {k: getattr(expected, k) for k in columns}
        assert [type(getattr(loaded, k)) for k in columns] == [type(getattr(expected, k)) for k in columns]
        state = inspect(loaded)
        assert state.detached and state.key == inspect(expected).key and not state.modified
    assert loaded.created_at.tzinfo is not None and loaded.tag_list == ["tag"]
    with server.db.direct_read() as conn:
        author = load_detached(conn, Account, user.id)
    assert author.locked is True and author.statuses_count == 1
    second = post(user, "a second post")  # written with an author loaded this way (routes/statuses.py)
    with server.db.read() as session:
        assert session.get(Account, user.id).statuses_count == 2
        assert session.get(Status, int(second["id"])).account_id == user.id

