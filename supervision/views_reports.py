"""Reports over a date range in the supervisor's time zone, and their CSV exports (streamed)."""

from __future__ import annotations

import csv
from datetime import timedelta

from django import forms
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from .decorators import supervisor_required
from .reports import Period, Report, Row, report_read

MAX_DAYS = 366
DATE = forms.DateInput(attrs={"type": "date"})


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The end date is before the start date."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(_("Choose at most a year."))
        return cleaned


def _period(request) -> tuple[PeriodForm, Period | None]:
    today = timezone.localdate()
    data = (
        request.GET
        if "start" in request.GET or "end" in request.GET
        else {
            "start": (today - timedelta(days=6)).isoformat(),
            "end": today.isoformat(),
        }
    )
    form = PeriodForm(data)
    if not form.is_valid():
        return form, None
    period = Period(
        start=form.cleaned_data["start"],
        end=form.cleaned_data["end"],
        time_zone=request.scope.time_zone,
    )
    return form, period


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def table_columns() -> list[tuple[str, str]]:
    return [
        ("name", _("Name")),
        ("opened", _("Opened")),
        ("assigned", _("Assigned")),
        ("resolved", _("Resolved")),
        ("first_response_median", _("First response, median (min)")),
        ("first_response_p90", _("First response, p90 (min)")),
        ("resolution_median", _("Resolution, median (min)")),
        ("resolution_p90", _("Resolution, p90 (min)")),
        ("messages_in", _("Messages in")),
        ("messages_out", _("Messages out")),
        ("failed", _("Failed")),
        ("unconfirmed", _("Unconfirmed")),
        ("transfers", _("Transfers")),
    ]


def row_values(row: Row) -> list:
    values = []
    for key, _label in table_columns():
        value = getattr(row, key)
        values.append(_minutes(value) if key.endswith(("_median", "_p90")) else value)
    return values


def weekday_names() -> list[str]:
    return [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]


def _chart_data(report: Report) -> dict:
    return {
        "divisions": {
            "labels": [r.name for r in report.divisions],
            "series": [
                {"label": _("Opened"), "data": [r.opened for r in report.divisions]},
                {"label": _("Resolved"), "data": [r.resolved for r in report.divisions]},
            ],
        },
        "agents": {
            "labels": [r.name for r in report.agents],
            "series": [
                {
                    "label": _("First response, median (min)"),
                    "data": [float(_minutes(r.first_response_median) or 0) for r in report.agents],
                },
                {
                    "label": _("Resolution, median (min)"),
                    "data": [float(_minutes(r.resolution_median) or 0) for r in report.agents],
                },
            ],
        },
    }


def _heat_level(n: int, top: int) -> int:
    return 0 if not n or not top else 1 + min(4, (n * 5 - 1) // top)


@require_GET
@supervisor_required
def reports(request):
    form, period = _period(request)
    context = {"form": form, "nav": "reports", "columns": table_columns()}
    if period is not None:
        report = report_read(scope=request.scope, period=period)
        top = report.heatmap_max
        context.update(
            report=report,
            division_rows=[row_values(r) for r in report.divisions],
            agent_rows=[row_values(r) for r in report.agents],
            heatmap=[
                (name, [(n, _heat_level(n, top)) for n in hours])
                for name, hours in zip(weekday_names(), report.heatmap, strict=True)
            ],
            hours=range(24),
            chart_data=_chart_data(report),
            query=request.GET.urlencode(),
        )
    return render(request, "supervision/reports.html", context, status=200 if period else 400)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(report: Report, table: str):
    if table == "heatmap":
        yield [_("Weekday")] + [f"{h:02d}:00" for h in range(24)]
        for name, hours in zip(weekday_names(), report.heatmap, strict=True):
            yield [name, *hours]
        return
    yield [label for _key, label in table_columns()]
    for row in report.divisions if table == "divisions" else report.agents:
        yield row_values(row)


@require_GET
@supervisor_required
def report_csv(request, table: str):
    if table not in ("divisions", "agents", "heatmap"):
        raise Http404
    form, period = _period(request)
    if period is None:
        raise Http404
    report = report_read(scope=request.scope, period=period)
    writer = csv.writer(_Echo())
    # Labels are translated now, while the request's language is active; the rows are written
    # out as the response streams.
    rows = list(_csv_rows(report, table))
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows),
        content_type="text/csv; charset=utf-8",
    )
    name = f"sapa-{table}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
