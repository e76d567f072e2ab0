"""Report figures against a hand-computed fixture (supervision.reports), time-zone edges included.

The viewer is in Asia/Jakarta (WIB, UTC+7); the range is Mon 2 and Tue 3 March 2026, i.e.
2026-03-01 17:00 UTC up to 2026-03-03 17:00 UTC. Times below are WIB.

Sales conversations:
  A  opened Mon 00:30 (Sun 17:30 UTC: the previous UTC day), Ani, answered 00:40, resolved 01:30
  B  opened Sun 23:50 (outside), Ani, answered 23:55, resolved Mon 00:20: spans midnight
  C  opened Tue 23:30, Budi, answered Wed 00:10 (after the range; still counts: opened inside)
  D  opened Wed 00:10 (Tue 17:10 UTC: inside the UTC day, outside the WIB range), Budi
  F  opened Mon 09:00, Ani, answered 09:30, resolved 11:00
Support: E opened Mon 10:00, resolved 10:20, with one customer message at 10:00.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from agents.services import agent_create
from chats.models import Conversation, Message
from rotation.models import AssignmentLog
from supervision.models import SupervisorScope
from supervision.reports import Period, p90, report_read
from supervision.scope import supervisor_scope_for_user
from tests.factories import ContactFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
T = AssignmentLog.Trigger


def wib(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=WIB)


def chat(device, agent, opened, *, answered=None, resolved=None):
    convo = Conversation.objects.create(
        contact=ContactFactory(device=device),
        device=device,
        division=device.division,
        agent=agent,
        status=Conversation.Status.RESOLVED if resolved else Conversation.Status.OPEN,
    )
    Conversation.objects.filter(pk=convo.pk).update(
        opened_at=opened, first_response_at=answered, resolved_at=resolved
    )
    return convo


def msg(convo, direction, at, *, agent=None, status=Message.Status.RECEIVED):
    m = Message.objects.create(
        conversation=convo,
        device=convo.device,
        direction=direction,
        sender_agent=agent,
        status=status,
    )
    Message.objects.filter(pk=m.pk).update(created_at=at)


def log(convo, agent, at, trigger=T.NEW_CHAT):
    row = AssignmentLog.objects.create(
        pool=f"division:{convo.division_id}",
        mode="full",
        trigger=trigger,
        agent=agent,
        conversation=convo,
    )
    AssignmentLog.objects.filter(pk=row.pk).update(created_at=at)


@pytest.fixture
def data(desk):
    ani = desk.ani.agent
    budi = agent_create(
        name="Budi", device=desk.sales_device, division=desk.sales, token="sapa_test-budi"
    ).agent
    sales, support = desk.sales_device, desk.support_device
    a = chat(sales, ani, wib(2, 0, 30), answered=wib(2, 0, 40), resolved=wib(2, 1, 30))
    chat(sales, ani, wib(1, 23, 50), answered=wib(1, 23, 55), resolved=wib(2, 0, 20))
    c = chat(sales, budi, wib(3, 23, 30), answered=wib(4, 0, 10))
    d = chat(sales, budi, wib(4, 0, 10))
    f = chat(sales, ani, wib(2, 9, 0), answered=wib(2, 9, 30), resolved=wib(2, 11, 0))
    e = chat(support, desk.citra.agent, wib(2, 10, 0), resolved=wib(2, 10, 20))
    msg(a, "in", wib(2, 0, 35))
    msg(f, "in", wib(2, 9, 5))
    msg(f, "in", wib(2, 9, 6))
    msg(c, "in", wib(3, 23, 35))
    msg(d, "in", wib(4, 0, 15))  # outside
    msg(e, "in", wib(2, 10, 0))  # Support
    msg(a, "out", wib(2, 0, 40), agent=ani, status=Message.Status.READ)
    msg(f, "out", wib(2, 9, 30), agent=ani, status=Message.Status.FAILED)
    msg(c, "out", wib(3, 23, 40), agent=budi, status=Message.Status.UNCONFIRMED)
    log(a, ani, wib(2, 0, 31))
    log(f, ani, wib(2, 9, 1))
    log(c, budi, wib(3, 23, 31))
    log(c, budi, wib(3, 23, 45), T.TRANSFER)
    log(d, budi, wib(4, 0, 11))  # outside
    return {"ani": ani, "budi": budi}


PERIOD = Period(start=date(2026, 3, 2), end=date(2026, 3, 3), time_zone="Asia/Jakarta")


def test_p90_is_the_nearest_rank():
    assert p90([10, 40, 30]) == 40
    assert p90(list(range(1, 11))) == 9
    assert p90([]) is None


def test_division_figures_in_the_viewers_zone(desk, data):
    report = report_read(scope=supervisor_scope_for_user(user=desk.sales_supervisor), period=PERIOD)
    [sales] = report.divisions
    assert (sales.opened, sales.assigned, sales.resolved, sales.transfers) == (3, 4, 3, 1)
    assert (sales.messages_in, sales.messages_out, sales.failed, sales.unconfirmed) == (4, 3, 1, 1)
    assert (sales.first_response_median, sales.first_response_p90) == (30 * 60, 40 * 60)
    assert (sales.resolution_median, sales.resolution_p90) == (60 * 60, 120 * 60)


def test_agent_figures(desk, data):
    report = report_read(scope=supervisor_scope_for_user(user=desk.sales_supervisor), period=PERIOD)
    rows = {row.key: row for row in report.agents}
    assert set(rows) == {data["ani"].pk, data["budi"].pk}  # no Support agent
    ani, budi = rows[data["ani"].pk], rows[data["budi"].pk]
    assert (ani.opened, ani.assigned, ani.resolved, ani.transfers) == (2, 2, 3, 0)
    assert (ani.messages_in, ani.messages_out, ani.failed, ani.unconfirmed) == (3, 2, 1, 0)
    assert (ani.first_response_median, ani.first_response_p90) == (20 * 60, 30 * 60)
    assert (ani.resolution_median, ani.resolution_p90) == (60 * 60, 120 * 60)
    assert (budi.opened, budi.assigned, budi.resolved, budi.transfers) == (1, 2, 0, 1)
    assert (budi.messages_in, budi.messages_out, budi.unconfirmed) == (1, 1, 1)
    assert budi.first_response_median == 40 * 60 and budi.resolution_median is None


def test_busiest_hours_by_weekday_and_hour_in_the_viewers_zone(desk, data):
    report = report_read(scope=supervisor_scope_for_user(user=desk.sales_supervisor), period=PERIOD)
    cells = {
        (day, hour): n
        for day, hours in enumerate(report.heatmap)
        for hour, n in enumerate(hours)
        if n
    }
    assert cells == {(0, 0): 1, (0, 9): 2, (1, 23): 1}
    everything = report_read(scope=supervisor_scope_for_user(user=desk.superuser), period=PERIOD)
    assert everything.heatmap[0][10] == 1  # Support's message, seen by the superuser only
    support = next(r for r in everything.divisions if r.name == "Support")
    assert (support.opened, support.resolved, support.resolution_median) == (1, 1, 20 * 60)


def test_the_same_dates_in_utc_count_other_conversations(desk, data):
    scope = SupervisorScope.objects.get(user=desk.sales_supervisor)
    scope.time_zone = "UTC"
    scope.save()
    utc = Period(start=date(2026, 3, 2), end=date(2026, 3, 3), time_zone="UTC")
    report = report_read(scope=supervisor_scope_for_user(user=desk.sales_supervisor), period=utc)
    [sales] = report.divisions
    assert (sales.opened, sales.resolved) == (3, 1)  # C, D, F opened; only F resolved


def test_report_page_and_csv_exports(desk, data):
    client = client_for(desk.sales_supervisor)
    query = {"start": "2026-03-02", "end": "2026-03-03"}
    page = client.get(reverse("supervision:reports"), query)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="report-data"' in html and "chart.umd.min.js" in html
    response = client.get(reverse("supervision:report_csv", args=["divisions"]), query)
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["Name", "Opened", "Assigned", "Resolved"]
    assert rows[1] == [
        "Sales",
        "3",
        "4",
        "3",
        "30.0",
        "40.0",
        "60.0",
        "120.0",
        "4",
        "3",
        "1",
        "1",
        "1",
    ]
    assert len(rows) == 2  # no Support row
    agents = client.get(reverse("supervision:report_csv", args=["agents"]), query)
    text = b"".join(agents.streaming_content).decode()
    assert "Ani (Sales)" in text and "Citra" not in text
    heat = client.get(reverse("supervision:report_csv", args=["heatmap"]), query)
    heat_rows = list(csv.reader(io.StringIO(b"".join(heat.streaming_content).decode())))
    assert heat_rows[1][1] == "1" and heat_rows[1][10] == "2"


def test_a_bad_range_is_refused_with_a_reason(desk):
    client = client_for(desk.sales_supervisor)
    response = client.get(
        reverse("supervision:reports"), {"start": "2026-03-05", "end": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    bad = client.get(reverse("supervision:report_csv", args=["divisions"]), {"start": "x"})
    assert bad.status_code == 404
    assert client.get("/supervision/reports/secrets.csv").status_code == 404
