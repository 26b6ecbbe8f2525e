"""structlog set-up: JSON lines in production, readable console on a terminal.

Per-message context (correlation id, event id, stream id) is bound with
``structlog.contextvars`` so every log line inside a handler carries it. Every line,
structlog's and the libraries' alike, passes ``redact_personal_data`` before it is
rendered: logs never carry personal data.
"""

import logging
import sys

import structlog

from services.platform.redaction import redact_personal_data


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog and the standard library logging once per process."""
    if json is None:
        json = not sys.stdout.isatty()
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info if json else structlog.dev.set_exc_info,
            redact_personal_data,  # after the traceback became text, so it is scanned too
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    # Libraries (aiokafka, uvicorn, faststream) log through the standard library.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, redact_personal_data], processor=renderer
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
