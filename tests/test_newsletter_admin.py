"""Staff side of the newsletter: subscriber counts, filters, CSV export, manual unsubscribe;
campaigns created with their content, previewed exactly as sent, and read-only once queued."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from articles.factories import PublishedArticleFactory
from articles.models import Article
from newsletter import services
from newsletter.factories import (
    CampaignFactory,
    ConfirmedSubscriberFactory,
    PendingSubscriberFactory,
    UnsubscribedSubscriberFactory,
)
from newsletter.models import Campaign, Subscriber

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:newsletter_subscriber_changelist")
EXPORT = reverse("admin:newsletter_subscriber_export")


def _csv(response):
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_the_subscriber_list_shows_counts_by_status_and_filters(admin_client):
    ConfirmedSubscriberFactory.create_batch(3)
    PendingSubscriberFactory.create_batch(2)
    UnsubscribedSubscriberFactory()
    html = admin_client.get(CHANGELIST).content.decode()
    assert "Confirmed: <strong>3</strong>" in html
    assert "Pending confirmation: <strong>2</strong>" in html
    assert "Unsubscribed: <strong>1</strong>" in html
    assert EXPORT in html
    response = admin_client.get(CHANGELIST, {"status__exact": "pending", "wants_news__exact": "1"})
    assert response.context["cl"].result_count == 2
    found = admin_client.get(CHANGELIST, {"q": "reader"}).context["cl"].result_count
    assert found == 6


def test_the_csv_export_streams_confirmed_subscribers_only(admin_client):
    confirmed = ConfirmedSubscriberFactory(email="kept@example.org", wants_events=False)
    ConfirmedSubscriberFactory(email="=cmd@example.org")
    PendingSubscriberFactory(email="pending@example.org")
    UnsubscribedSubscriberFactory(email="gone@example.org")
    response = admin_client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == services.CSV_HEADER
    by_email = {row[0]: row for row in rows[1:]}
    assert set(by_email) == {"kept@example.org", "'=cmd@example.org"}
    assert by_email["kept@example.org"][4:] == ["1", "0", "1", "1"]
    assert by_email["kept@example.org"][1] == confirmed.confirmed_at.isoformat()


def test_the_csv_export_of_many_rows_is_read_in_chunks(admin_client, django_assert_max_num_queries):
    Subscriber.objects.bulk_create(
        Subscriber(email=f"bulk{n}@example.org", status=Subscriber.Status.CONFIRMED)
        for n in range(4500)
    )
    response = admin_client.get(EXPORT)
    # Rows come from the database as the response is consumed, 2,000 at a time.
    with django_assert_max_num_queries(4):
        rows = _csv(response)
    assert len(rows) == 4501


def test_export_needs_its_own_permission(client):
    staff = User.objects.create_user("staff", "staff@example.org", "pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client.force_login(staff)
    assert client.get(EXPORT).status_code == 403
    assert EXPORT not in client.get(CHANGELIST).content.decode()
    staff.user_permissions.add(Permission.objects.get(codename="export_subscriber"))
    staff = User.objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.get(EXPORT).status_code == 200


def test_staff_can_unsubscribe_someone_by_hand(admin_client):
    subscriber = ConfirmedSubscriberFactory()
    response = admin_client.post(
        CHANGELIST, {"action": "unsubscribe_selected", "_selected_action": [subscriber.pk]}
    )
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None


def test_a_new_campaign_picks_its_content_automatically(admin_client, admin_user):
    news = PublishedArticleFactory(kind=Article.Kind.NEWS)
    response = admin_client.post(
        reverse("admin:newsletter_campaign_add"),
        {"subject": "June newsletter", "intro": "Hello."},
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert list(campaign.articles.all()) == [news]
    assert campaign.created_by == admin_user
    assert campaign.content_until is not None


def test_the_preview_shows_the_html_and_text_parts_as_sent(admin_client):
    campaign = CampaignFactory(
        subject="<b>Bold</b> subject",
        articles=[PublishedArticleFactory(kind=Article.Kind.NEWS, title="Talks & <i>tea</i>")],
    )
    response = admin_client.get(reverse("admin:newsletter_campaign_preview", args=[campaign.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "List-Unsubscribe=One-Click" in html
    assert "<iframe" in html
    assert 'sandbox=""' in html
    # The HTML part sits escaped in srcdoc; the title inside it was escaped once already.
    assert "Talks &amp;amp; &amp;lt;i&amp;gt;tea&amp;lt;/i&amp;gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; subject" in html
    assert "* Talks &amp; &lt;i&gt;tea&lt;/i&gt;" in html  # the text part, in <pre>


def test_a_queued_campaign_cannot_be_edited(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.QUEUED)
    response = admin_client.get(reverse("admin:newsletter_campaign_change", args=[campaign.pk]))
    assert 'name="subject"' not in response.content.decode()


def test_the_campaign_list_shows_delivery_counts(admin_client):
    for _ in range(3):
        CampaignFactory()
    response = admin_client.get(reverse("admin:newsletter_campaign_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3


def test_the_campaign_page_lists_failed_addresses_with_their_errors(admin_client):
    campaign = CampaignFactory(status=Campaign.Status.SENT)
    subscriber = ConfirmedSubscriberFactory(email="bounce@example.org")
    campaign.deliveries.create(
        subscriber=subscriber, status="failed", attempts=3, error="550 <No such user>"
    )
    html = admin_client.get(
        reverse("admin:newsletter_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert "bounce@example.org (3 × tried): 550 &lt;No such user&gt;" in html
