"""The Jobs page, and the health and readiness endpoints."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from civicgrid.core.paging import paginate
from civicgrid.core.views import scoped_view
from civicgrid.ops import health, selectors


@scoped_view
@require_GET
def job_list(request: HttpRequest, scope: Any) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in {"failed", "done"} else ""
    page = paginate(selectors.job_runs(scope=scope, status=status), 50, request.GET.get("page"))
    rows = [{"run": run, "label": selectors.job_label(run.func, run.args),
             "error": "" if run.success else selectors.error_line(run.result)} for run in page]
    summary = selectors.queue_summary(scope=scope)
    schedules = [{"label": selectors.job_label(s.name), "next_run": s.next_run} for s in summary.schedules]
    return render(request, "ops/jobs.html", {"page": page, "rows": rows, "status": status, "summary": summary,
                                             "schedules": schedules})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    ready, checks = health.readiness()
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status=200 if ready else 503)
