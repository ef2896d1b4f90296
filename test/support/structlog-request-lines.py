"""Print real structlog request lines, shaped as request-logging middleware writes them, for the request-field tests.

Run with Debian's Python (python3-structlog): /usr/bin/python3 test/support/structlog-request-lines.py
One JSON line per event on stdout; the tests find each by its `marker` key (the value is bound per line).

Shapes, each from the middleware's own source:
- structlog's stdlib chain with contextvars (structlog.contextvars.merge_contextvars first, as structlog's
  "Context variables" docs and asgi-correlation-id's structlog recipe bind `request_id` per request), and a
  FastAPI/Starlette-style access line: `method`, `path`, `status_code`, `duration_ms` rounded to 2 places
  (the usual `round((time.perf_counter() - start) * 1000, 2)`), or `duration` in seconds.
- django-structlog (jrobichaud/django-structlog django_structlog/middlewares/request.py): `request_started`
  with `request="GET /path"` and `user_agent`, `request_finished` with `code=<status>` and `request`;
  `request_id`, `ip`, `user_id` bound as contextvars. Its status key is `code`: a catalog entry names it.
- Timings in microseconds and nanoseconds: `time.perf_counter_ns()` differences are Python ints (PEP 564),
  written as JSON integers; `(time.perf_counter() - start) * 1e9` is a float.
- Nested request objects (`http={"status_code": ..., "route": ...}`), read by dotted requestLogKeys.
- A job whose `status` is its own state ("ok", or a small integer), not an HTTP status.
Durations are fixed values (not measured) so the expected nanoseconds are known.
"""

import logging
import sys

import structlog

logging.basicConfig(level=logging.DEBUG, format="%(message)s", stream=sys.stdout)

structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.filter_by_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)

access = structlog.stdlib.get_logger("api.access")
bind = structlog.contextvars.bind_contextvars
clear = structlog.contextvars.clear_contextvars

# FastAPI/Starlette-style middleware: request_id bound for the request, the access line at the end.
clear()
bind(request_id="0f8fad5b-d9cb-469f-a165-70867728950e", marker="fastapi-ms")
access.info("request_finished", method="GET", path="/api/search", status_code=200, duration_ms=12.5, user_agent="curl/8.5.0")
clear()
bind(request_id="7c9e6679-7425-40de-944b-e07fc1f90ae7", marker="fastapi-seconds")
access.warning("request_finished", method="POST", path="/api/items/42", route="/api/items/{item_id}", status_code=503, duration=0.0125, trace_id="4bf92f3577b34da6a3ce929d0e0e4736")
clear()
bind(marker="seconds-long-fraction")
access.info("request_finished", method="GET", path="/health", status_code=200, duration=0.123456789987)
clear()
bind(marker="seconds-tiny")
access.info("request_finished", method="GET", path="/health", status_code=200, elapsed=0.0001)
clear()
bind(marker="seconds-integer")
access.info("request_finished", method="GET", path="/slow", status_code=200, latency=2)
clear()
bind(marker="millis-integer")
access.info("request_finished", method="GET", path="/x", status_code=204, duration_ms=7)
clear()
bind(marker="millis-large")
access.info("request_finished", method="GET", path="/export", status_code=200, duration_ms=12345678.9)
clear()
bind(marker="status-text")
access.info("request_finished", method="GET", path="/x", status_code="404", duration_ms=3.25)

# django-structlog's RequestMiddleware: contextvars, then request_started / request_finished with `code`.
django = structlog.stdlib.get_logger("django_structlog.middlewares.request")
clear()
bind(request_id="3f2504e0-4f89-11d3-9a0c-0305e82c3301", ip="10.0.0.9", user_id=17, marker="django-started")
django.info("request_started", request="GET /orders/5", user_agent="Mozilla/5.0 (X11; Linux x86_64)")
bind(marker="django-finished")
django.info("request_finished", code=500, request="GET /orders/5")

# A health-only agent whose own keys differ: `took` in milliseconds, `endpoint` for the route.
agent = structlog.stdlib.get_logger("victoria.agent")
clear()
bind(marker="agent-own-keys")
agent.info("handled", endpoint="/health", took=3.5, status_code=200)

# Values of the wrong type: kept under structlog.*, tagged.
clear()
bind(marker="wrong-types")
access.info("request_finished", method={"verb": "GET"}, path=["/a", "/b"], status_code="OK", duration="12ms")
clear()
bind(marker="negative-duration")
access.info("request_finished", duration=-0.5)
clear()
bind(marker="huge-duration")
# 1e13 ms is 1e19 ns: past Long.MAX_VALUE (9223372036854775807) nanoseconds.
access.info("request_finished", duration_ms=1e13)
clear()
bind(marker="seconds-past-long")
# 9.3e9 s is 9.3e18 ns: past Long.MAX_VALUE nanoseconds (about 9.22e9 s).
access.info("request_finished", duration=9.3e9)
clear()
bind(marker="nanos-past-long")
# One past Long.MAX_VALUE: a BigInteger to Jackson.
access.info("handled", elapsed_ns=9223372036854775808)
clear()
bind(marker="seconds-near-long")
# 9.2e9 s: 9200000000000000000 ns, under Long.MAX_VALUE (Java writes 9.2E9).
access.info("request_finished", duration=9.2e9)

# Microseconds and nanoseconds (a service's own keys, requestLogKeys.duration.unit us / ns).
clear()
bind(marker="micros")
access.info("handled", took_us=12500)
clear()
bind(marker="micros-fraction")
access.info("handled", took_us=0.5)
clear()
bind(marker="nanos-int")
access.info("handled", elapsed_ns=1234567890123)
clear()
bind(marker="nanos-past-2-53")
# 2^53 + 1: no double holds it; a Long to Jackson, read digit for digit.
access.info("handled", elapsed_ns=9007199254740993)
clear()
bind(marker="nanos-long-max")
access.info("handled", elapsed_ns=9223372036854775807)
clear()
bind(marker="nanos-float")
# (perf_counter() - start) * 1e9 for a 15 s request: Python writes 15000000000.0, Java 1.5E10.
access.info("handled", elapsed_ns=15000000000.0)

# Nested request objects, read with dotted keys (http.status_code, http.route, timing.ns).
clear()
bind(marker="nested")
access.info("handled", http={"method": "PUT", "route": "/v1/items/{id}", "status_code": 201}, timing={"ns": 2500000})
clear()
bind(marker="nested-not-object")
access.info("handled", http="1.1", timing=["ns", 3])
clear()
bind(marker="nested-wrong-type")
access.info("handled", http={"status_code": {"code": 500}})

# A job runner's own `status` (a state, not an HTTP status).
jobs = structlog.stdlib.get_logger("jobs.runner")
clear()
bind(marker="job-status-text")
jobs.info("job_done", job="reindex", status="ok", duration=1.5)
clear()
bind(marker="job-status-int")
jobs.info("job_done", job="reindex", status=3)

# Status codes that are numbers but not whole longs: kept under structlog, tagged.
for marker, value in [("status-double-integral", 404.0), ("status-double-fraction", 404.7), ("status-double-huge", 1e300), ("status-bigint", 99999999999999999999)]:
    clear()
    bind(marker=marker)
    access.info("request_finished", method="GET", path="/x", status_code=value)

clear()
bind(marker="pattern-a")
access.info("user 42 fetched order 0f8fad5b-d9cb-469f-a165-70867728950e in 12.5 ms")
clear()
bind(marker="pattern-b")
access.info("user 7 fetched order 7c9e6679-7425-40de-944b-e07fc1f90ae7 in 3 ms")
