"""Client API group 3 with an unmodified Mastodon.py: notification policy and requests, grouped
notifications and unread counts, and Web Push (subscribe, update, a delivery Mastodon.py itself
decrypts with the keys it generated, delete)."""

from __future__ import annotations

from typing import Any

from mastodon import Mastodon

from tests.helpers import LiveServer, User, eventually
from tests.test_client_api3 import Receiver, post


def client(server: LiveServer, user: User) -> Any:
    """Mastodon.py without its version gate: Warden reports Mastodon 4.2.0 compatibility, and Mastodon.py
    refuses 4.3's notification endpoints below that (the integrator may raise MASTODON_COMPAT_VERSION)."""
    return Mastodon(access_token=user.token, api_base_url=server.url, version_check_mode="none")


def test_mastodon_py_notification_policy_requests_and_groups(server: LiveServer) -> None:
    reader, stranger, fan = server.user("mpreader"), server.user("mpstranger"), server.user("mpfan")
    api = client(server, reader)
    policy = api.update_notifications_policy(for_not_following="filter")
    assert policy.for_not_following == "filter" and api.notifications_policy().for_private_mentions == "filter"
    reader.post(f"/api/v1/accounts/{fan.id}/follow")
    mine = post(reader, "liked by a friend and a stranger")
    stranger.post(f"/api/v1/statuses/{mine['id']}/favourite")
    fan.post(f"/api/v1/statuses/{mine['id']}/favourite")

    requests = api.notification_requests()
    assert [str(r.account.id) for r in requests] == [str(stranger.id)]
    assert api.notification_request(requests[0].id).notifications_count == "1"
    grouped = api.grouped_notifications()
    assert [(g.type, g.notifications_count) for g in grouped.notification_groups] == [("favourite", 1)]
    api.accept_notification_request(requests[0].id)
    assert api.notifications_merged() is True
    grouped = api.grouped_notifications()
    assert [(g.type, g.notifications_count) for g in grouped.notification_groups] == [("favourite", 2)]
    key = grouped.notification_groups[0].group_key
    assert {str(a.id) for a in api.grouped_notification_accounts(key)} == {str(stranger.id), str(fan.id)}
    assert api.unread_grouped_notifications_count() == 1
    assert api.notifications_unread_count().count == 2
    api.dismiss_grouped_notification(key)
    assert api.grouped_notifications().notification_groups == []


def test_mastodon_py_push_subscription_and_delivery(server: LiveServer) -> None:
    receiver = Receiver()
    try:
        reader, fan = server.user("mppush"), server.user("mppushfan")
        api = client(server, reader)
        private, public = api.push_subscription_generate_keys()
        created = api.push_subscription_set(receiver.url, public, follow_events=True, mention_events=True)
        assert created.alerts.follow is True and created.alerts.favourite is False
        assert created.server_key == api.instance_v2().configuration.vapid.public_key
        updated = api.push_subscription_update(favourite_events=True, follow_events=False)
        assert updated.alerts.favourite is True and updated.alerts.follow is False
        assert str(api.push_subscription().id) == str(created.id)

        fan.post(f"/api/v1/accounts/{reader.id}/follow")  # not pushed any more
        mine = post(reader, "push this favourite")
        fan.post(f"/api/v1/statuses/{mine['id']}/favourite")
        headers, body = eventually(lambda: receiver.received[0] if receiver.received else None, what="a push")
        assert headers["content-encoding"] == "aesgcm"  # a subscription that did not say `standard`
        push = api.push_subscription_decrypt_push(body, private, headers["encryption"], headers["crypto-key"])
        assert push.notification_type == "favourite" and push.body == "push this favourite"
        assert str(api.notifications(id=push.notification_id).account.id) == str(fan.id)

        api.push_subscription_delete()
        assert reader.get("/api/v1/push/subscription").status_code == 404
    finally:
        receiver.close()
