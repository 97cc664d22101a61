"""The fault tier: its own stack (it gets killed), torn down at the end; figures in the summary."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services.common.settings import PROJECT_ROOT, Settings
from services.devstack.stack import LocalStack, private_stack
from tests.fault import harness


@pytest.fixture(scope="session")
def fault_stack() -> Iterator[tuple[Settings, LocalStack]]:
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    if base.external:
        pytest.skip(
            "fault tests kill Kafka and Redis: they need the local stack, not external ones"
        )
    state = PROJECT_ROOT / ".newswire" / f"fault-{uuid.uuid4().hex[:8]}"
    with private_stack(base, state) as s:
        yield s, LocalStack(s)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if harness.RESULTS:
        terminalreporter.section(f"fault figures ({harness.n_articles()} articles per run)")
        for f in harness.RESULTS:
            terminalreporter.write_line(f.line())
