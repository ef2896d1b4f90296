"""Print real structlog JSON lines, as the team's services write them, for the ingest pipeline tests.

Run with Debian's Python (python3-structlog): /usr/bin/python3 test/support/structlog-lines.py
Every line on stdout is one log event; the tests find them by their `event` (or, for the
EventRenamer("message") configuration, by their `message`).

The configuration is a typical production one through the standard library: logger name,
level, ISO 8601 UTC timestamp, exception formatting, JSON rendering; the standard library
handler prints the rendered line as it is.
"""

import logging
import sys

import structlog

# `edge`: only the lines of the second part (values JavaScript's JSON.parse reads differently from
# Jackson, or refuses), printed by the same configurations; the default prints the first part.
EDGE = sys.argv[1:] == ["edge"]
if EDGE:
    sys.stdout = open("/dev/null", "w")  # the first part runs (same loggers), its lines are dropped

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


# structlog's documented JSON recipe for exceptions: dict_tracebacks turns exc_info into a list of
# stacks (exc_type, exc_value, is_cause, frames with filename/lineno/name/locals).
dict_tb = structlog.wrap_logger(
    structlog.PrintLogger(file=sys.stdout),
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.dict_tracebacks,
        structlog.processors.JSONRenderer(),
    ],
)


def load_config(path):
    try:
        return {"a": 1}[path]
    except KeyError as missing:
        raise RuntimeError(f"no config at {path}") from missing


try:
    load_config("/etc/atra.toml")
except RuntimeError:
    dict_tb.exception("config load failed", attempt=3)

try:
    try:
        1 / 0
    except ZeroDivisionError:
        [][1]
except IndexError:
    dict_tb.exception("error while handling another")

# EventRenamer("message"): the event text is under `message`, there is no `event`; with
# TimeStamper(utc=False) the timestamp is local wall-clock time without an offset.
renamed = structlog.wrap_logger(
    structlog.PrintLogger(file=sys.stdout),
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=False),
        structlog.processors.format_exc_info,
        structlog.processors.EventRenamer("message"),
        structlog.processors.JSONRenderer(),
    ],
)
renamed.warning("renamed event", order_id="o-1")
try:
    int("x")
except ValueError:
    renamed.exception("renamed with traceback")

# TimeStamper(utc=False) alone: local time, no offset, read as UTC by the pipeline.
local = structlog.wrap_logger(
    structlog.PrintLogger(file=sys.stdout),
    processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso", utc=False), structlog.processors.JSONRenderer()],
)
local.info("local time without zone")

# Values a developer can bind that do not fit the typed ECS fields. Without a TimeStamper in the
# chain, a bound `timestamp` goes out as it is.
plain = structlog.wrap_logger(
    structlog.PrintLogger(file=sys.stdout),
    processors=[structlog.processors.JSONRenderer()],
)
plain.info({"kind": "event as a dict"}, level="info", marker="event-dict")
plain.info("level as a dict", level={"name": "info", "no": 20})
plain.info("logger as a list", logger=["a", "b"], level="info")
plain.info("timestamp before 1970", timestamp="1969-07-20T20:17:40Z", level="info")
plain.info("timestamp after 2262", timestamp="2300-01-01T00:00:00Z", level="info")
plain.info("unix timestamp far out", timestamp=1e13, level="info")
plain.info("exception as a dict", exception={"type": "X"}, level="error")

# What even a guarded pipeline cannot fix: an object nested deeper than the flattened field's
# depth limit (20). The mapping rejects it; the failure store keeps it.
deep = "leaf"
for level in range(25):
    deep = {f"l{level}": deep}
plain.info("nested too deep", payload=deep, level="info")

# ---------------------------------------------------------------------------------------------
# Second part (`edge`): what structlog writes and Jackson reads differently from JavaScript.
# ---------------------------------------------------------------------------------------------
if EDGE:
    sys.stdout = sys.__stdout__
    logging.getLogger().handlers[0].setStream(sys.stdout)
    # The first part's PrintLoggers hold the dropped stream: the same chains again, on stdout.
    unix_timed = structlog.wrap_logger(structlog.PrintLogger(file=sys.stdout), processors=unix_timed._processors)
    dict_tb = structlog.wrap_logger(structlog.PrintLogger(file=sys.stdout), processors=dict_tb._processors)
    plain = structlog.wrap_logger(structlog.PrintLogger(file=sys.stdout), processors=plain._processors)

    # TimeStamper() (fmt=None): UNIX seconds as a float, sub-millisecond digits included.
    for worker in ("w3", "w4", "w5"):
        unix_timed.info("unix timestamp precise", worker=worker)

    # json.dumps' default allow_nan=True writes NaN, Infinity and -Infinity bare: not JSON, so Jackson
    # refuses the line. The level must still reach log.level (the error-rate alert counts it).
    log.error("ratio undefined", ratio=float("nan"), job_id="job-18")
    log.critical("limit overflow", limit=float("inf"), floor=float("-inf"))
    # A logged value with its own `level` key comes before structlog's own level in the line.
    log.error("nested level before the real one", config={"level": "debug"}, ratio=float("nan"))
    try:
        level = "debug"  # a local named `level`: dict_tracebacks puts its repr in the frame's locals
        float("x")
    except ValueError:
        dict_tb.exception("traceback with a local named level", ratio=float("nan"))

    # Numbers Java prints differently from JavaScript, and one beyond a double's integers.
    plain.info("numbers java prints", level="info", small=0.0001, large=1e7, whole=2.0, huge=2**64, seconds=1765087080.1234567)
