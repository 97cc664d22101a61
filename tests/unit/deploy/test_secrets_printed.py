"""`stack up`, `stack`'s readiness wait and `status`'s error line never print the Redis password."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from services.cli import main as cli
from services.cli import stack as stack_cli
from services.common.settings import Settings, get_settings
from services.devstack.stack import StackError, wait_ready

PASSWORD = "s3cret-pw-in-url"
URL = f"redis://:{PASSWORD}@127.0.0.1:1/0"


@pytest.fixture
def external(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REDIS_URL", URL)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("external")
def test_stack_up_on_external_services_masks_the_redis_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def ready(settings: Settings) -> None:
        return None

    monkeypatch.setattr(stack_cli, "wait_ready", ready)
    result = CliRunner().invoke(cli, ["stack", "up"])
    assert result.exit_code == 0, result.output
    assert "127.0.0.1:1" in result.output
    assert PASSWORD not in result.output
    assert "Redis redis://***@127.0.0.1:1/0" in result.output


def test_the_readiness_timeout_names_redis_without_its_password() -> None:
    s = Settings.model_construct(redis_url=SecretStr(URL), kafka_bootstrap_servers="127.0.0.1:1")
    with pytest.raises(StackError) as err:
        asyncio.run(wait_ready(s, wait_s=0))
    assert "127.0.0.1:1" in str(err.value)
    assert PASSWORD not in str(err.value)


@pytest.mark.usefixtures("external")
def test_status_with_kafka_unreachable_masks_the_redis_password() -> None:
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code != 0
    assert "Redis redis://***@127.0.0.1:1/0" in result.output, result.output
    assert PASSWORD not in result.output
