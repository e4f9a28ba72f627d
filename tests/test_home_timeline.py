"""The home timeline's fast path (`api/fastpath.py`) and its cached per-status JSON
(`serializers.page_json`): the same answers as the general path, never a stale one."""

from __future__ import annotations

import httpx

from tests.helpers import LiveServer
from warden.api.serializers import Presenter
from warden.platform import timelines


def post(user, text: str, **fields: str) -> dict:  # type: ignore[no-untyped-def]
    response = user.post("/api/v1/statuses", data={"status": text, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def home(user, query: str = "") -> list[dict]:  # type: ignore[no-untyped-def]
    response = user.get(f"/api/v1/timelines/home{query}")
    assert response.status_code == 200, response.text
    return response.json()


def test_home_page_renders_as_the_general_presenter_does(server: LiveServer) -> None:
    author, reader = server.user("author"), server.user("reader")
    reader.post(f"/api/v1/accounts/{author.id}/follow")
    tagged = post(author, f"hello @{reader.username} <b>#Tagged</b>", spoiler_text="cw")
    post(reader, "my own")
    reader.post(f"/api/v1/statuses/{tagged['id']}/favourite")
    with server.db.read() as session:
        rows = timelines.home_page(session, reader.id)
        fast = httpx.Response(200, content=Presenter(session, server.settings, reader.id).page_json(rows)).json()
        general = Presenter(session, server.settings, reader.id).statuses(timelines.home(session, reader.id))
    assert fast == general
    served = home(reader)
    assert served == general
    first = next(s for s in served if s["id"] == tagged["id"])
    assert first["favourited"] is True and first["mentions"][0]["username"] == reader.username
    assert first["tags"] == [{"name": "tagged", "url": f"{server.settings.base_url}/tags/tagged"}]
    assert "&lt;b&gt;" in first["content"]  # user text stays escaped


def test_cached_statuses_change_when_what_they_show_changes(server: LiveServer) -> None:
    author, reader, other = server.user("author"), server.user("reader"), server.user("other")
    reader.post(f"/api/v1/accounts/{author.id}/follow")
    status = post(author, "counted")
    assert home(reader)[0]["favourites_count"] == 0
    other.post(f"/api/v1/statuses/{status['id']}/favourite")
    assert home(reader)[0]["favourites_count"] == 1 and home(reader)[0]["favourited"] is False
    reader.post(f"/api/v1/statuses/{status['id']}/favourite")
    assert home(reader)[0]["favourited"] is True
    author.request("PATCH", "/api/v1/accounts/update_credentials", data={"display_name": "Renamed"})
    assert home(reader)[0]["account"]["display_name"] == "Renamed"
    author.request("DELETE", f"/api/v1/statuses/{status['id']}")
    assert status["id"] not in [s["id"] for s in home(reader)]


def test_reblogs_in_the_home_timeline(server: LiveServer) -> None:
    author, booster, reader = server.user("author"), server.user("booster"), server.user("reader")
    reader.post(f"/api/v1/accounts/{booster.id}/follow")
    original = post(author, "worth sharing")
    assert booster.post(f"/api/v1/statuses/{original['id']}/reblog").status_code == 200
    page = home(reader)
    assert page[0]["reblog"]["id"] == original["id"] and page[0]["account"]["id"] == str(booster.id)
    assert page[0]["reblog"]["content"] == original["content"]


def test_requests_the_fast_path_does_not_take_get_the_routes_answers(server: LiveServer) -> None:
    reader = server.user("reader")
    for n in range(3):
        post(reader, f"post {n}")
    assert httpx.get(f"{server.url}/api/v1/timelines/home").status_code == 401
    bad = httpx.get(f"{server.url}/api/v1/timelines/home", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and "error" in bad.json()
    no_scope = server.token(reader, "write")
    assert httpx.get(f"{server.url}/api/v1/timelines/home",
                     headers={"Authorization": f"Bearer {no_scope}"}).status_code == 403
    assert reader.get("/api/v1/timelines/home?limit=lots").status_code == 422
    assert reader.get("/api/v1/timelines/home?max_id=abc").status_code == 422
    by_query = httpx.get(f"{server.url}/api/v1/timelines/home?access_token={reader.token}")
    assert by_query.status_code == 200 and len(by_query.json()) == 3
    two = reader.get("/api/v1/timelines/home?limit=2")
    assert len(two.json()) == 2 and 'rel="next"' in two.headers["link"]
    older = reader.get(f"/api/v1/timelines/home?max_id={two.json()[-1]['id']}").json()
    assert len(older) == 1


def test_whether_the_viewer_reblogged_a_page_post_is_one_index_probe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With the statistics of a viewer who posts a lot and reblogs nothing, SQLite had walked the
    viewer's own posts for every post on the page (`ix_statuses_account_id_id`) to find a reblog;
    `ix_statuses_reblog_of_id_account_id` answers it in one probe (migration 0014)."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, insert, text

    from tests.conftest import make_database
    from warden.store.models import Account, Status

    url, drop = make_database("sqlite", tmp_path)
    engine = create_engine(url)
    try:
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(insert(Account), [{"id": 1, "username": "prolific", "username_key": "prolific",
                                            "email": "p@example.test", "password_hash": "x", "role": "user",
                                            "display_name": "", "note": "", "locked": False, "bot": False,
                                            "discoverable": True, "created_at": now}])
            conn.execute(insert(Status), [{"account_id": 1, "text": f"post {n}", "content_html": "", "spoiler_text": "",
                                           "sensitive": False, "visibility": "public", "created_at": now,
                                           "state": "published", "limited": False, "local_public": True}
                                          for n in range(2000)])
            conn.execute(text("ANALYZE"))
        statement = timelines._home_page_statement(False, False, False)
        compiled = statement.compile(dialect=engine.dialect)
        params = [{"viewer": 1, "limit": 20}.get(name, compiled.params.get(name)) for name in compiled.positiontup]
        with engine.connect() as conn:
            plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(params))]
        reblog_lookup = [step for step in plan if "viewer_reblogs" in step]
        assert reblog_lookup == ["SEARCH viewer_reblogs USING INDEX ix_statuses_reblog_of_id_account_id "
                                 "(reblog_of_id=? AND account_id=?)"], plan
    finally:
        engine.dispose()
        drop()  # type: ignore[operator]
