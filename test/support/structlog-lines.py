"""Print real structlog JSON lines, as the team's services write them, for the ingest pipeline tests.

Run with Debian's Python (python3-structlog): /usr/bin/python3 test/support/structlog-lines.py
Every line on stdout is one log event; the tests find them by their `event`.

The configuration is a typical production one through the standard library: logger name,
level, ISO 8601 UTC timestamp, exception formatting, JSON rendering; the standard library
handler prints the rendered line as it is.
"""

import logging
import sys

import structlog

logging.basicConfig(level=logging.DEBUG, format="%(message)s", stream=sys.stdout)

structlog.configure(
    processors=[
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

log = structlog.stdlib.get_logger("knowledge_os.api")

log.info("request handled", path="/api/search", status=200, duration_ms=12.5, user_id=42, cached=False)
log.warning("slow query", query="SELECT 1", elapsed_s=3.2)
try:
    1 / 0
except ZeroDivisionError:
    log.exception("division failed", job_id="job-17")
log.critical("disk almost full", mount="/srv", free_bytes=1024)
# Keys named like ECS fields stay under structlog.*, never clash with Filebeat's host/service/log.
log.info("peer connected", host="10.0.0.7", service={"name": "victoria"}, log="not the ECS log", error="none")
log.info("Grüße aus Zürich 👋", city="Zürich", note="ünïcödé ✓")
log.info("nested context", request={"headers": {"x-id": "abc"}, "sizes": [1, 2, 3]}, **{"http.status": 201})

# A logger whose chain has no TimeStamper: its lines carry no timestamp at all.
untimed = structlog.wrap_logger(
    structlog.PrintLogger(file=sys.stdout),
    processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
)
untimed.info("no timestamp here", worker="w1")

# TimeStamper() without fmt: UNIX seconds as a float.
unix_timed = structlog.wrap_logger(
    structlog.PrintLogger(file=sys.stdout),
    processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(), structlog.processors.JSONRenderer()],
)
unix_timed.info("unix timestamp", worker="w2")
