"""`newswire demo`: the main job, from a fresh stack to the alerts a subscriber got."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import click

from services.cli.shell import _settings, _stop_on_signals
from services.cli.stack import _create_topics
from services.common.settings import PROJECT_ROOT
from services.common.tasks import stop_tasks
from services.common.topics import RedisKeys
from services.common.topology import SERVICES
from services.devstack.stack import LocalStack, StackError
from services.devstack.supervise import ServiceDied, check_alive, running_services


@click.command()
@click.option("--timeout", type=float, default=120.0, help="Seconds to wait for alerts.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def demo(timeout: float, paths: tuple[Path, ...]) -> None:
    """Start a fresh stack and the five services, subscribe, replay seeds/, print the alerts, stop."""
    from schemas import Alert
    from services.delivery.live import alerts, format_alert
    from services.ingest.replay import replay as do_replay

    base = _settings()
    env: dict[str, str] = {}
    s = base
    st: LocalStack | None = None
    if not base.external:
        state = base.state_dir / "demo"
        shutil.rmtree(state, ignore_errors=True)
        s = base.model_copy(update={"state_dir": state})
        env["NEWSWIRE_STATE_DIR"] = str(state)
        st = LocalStack(s)
    sources = list(paths) or [PROJECT_ROOT / "seeds"]
    received: list[Alert] = []

    async def go(procs: dict[str, Any]) -> int:
        ready = asyncio.Event()

        async def collect() -> None:
            async for alert in alerts(s.redis, RedisKeys(s.redis_prefix).all_alerts, ready):
                if isinstance(alert, Alert):
                    received.append(alert)
                    click.echo(format_alert(alert, colour=sys.stdout.isatty()))

        task = asyncio.create_task(collect())
        await ready.wait()
        report = await do_replay(s, sources)
        click.echo(
            f"replayed {len(report.published)} article(s) from "
            f"{', '.join(str(p) for p in sources)}; waiting for alerts..."
        )
        deadline = time.monotonic() + timeout
        seen, quiet_since = 0, 0.0
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            check_alive(procs)
            if len(received) != seen:
                seen, quiet_since = len(received), time.monotonic()
            elif seen and time.monotonic() - quiet_since > 5:  # quiet for 5 s: all arrived
                break
        await stop_tasks([task])
        return len(report.published)

    _stop_on_signals()
    try:
        if st is not None:
            click.echo("starting Kafka and Redis (first run resolves the Kafka jars with Maven)...")
            st.up()
        _create_topics(s)
        with running_services(env=env, log_dir=s.state_dir / "logs") as procs:
            click.echo("services started: " + ", ".join(SERVICES))
            published = asyncio.run(go(procs))
    except KeyboardInterrupt:
        click.echo("interrupted; stopping everything")
        sys.exit(130)
    except (StackError, ServiceDied) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if st is not None:
            st.down()
    rules = sorted({a.rule_id for a in received})
    click.echo(
        f"\n{len(received)} alert(s) received for {published} article(s): {', '.join(rules)}"
    )
    if not received:
        raise click.ClickException("no alert arrived; see the logs in " + str(s.state_dir / "logs"))
    click.echo("demo finished; everything it started is stopped.")
