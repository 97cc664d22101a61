"""The image: multi-stage, unprivileged, one entry point; the build context leaves the bulk out.

No Docker engine runs here, so the Dockerfile is checked as text (its size cannot be measured).
"""

from __future__ import annotations

import re

from services.common.settings import PROJECT_ROOT

DOCKERFILE = (PROJECT_ROOT / "deploy" / "Dockerfile").read_text()
DOCKERIGNORE = (PROJECT_ROOT / ".dockerignore").read_text().split()


def _stages() -> list[str]:
    return re.split(r"^FROM ", DOCKERFILE, flags=re.M)[1:]


def test_multi_stage_with_a_runtime_that_copies_only_the_virtualenv() -> None:
    stages = _stages()
    assert len(stages) >= 2
    runtime = stages[-1]
    assert "uv sync" not in runtime and "pip install" not in runtime
    copies = re.findall(r"^COPY (.+)$", runtime, flags=re.M)
    assert copies == ["--from=build /app/.venv /app/.venv"]


def test_runs_as_a_non_root_user_with_one_entry_point() -> None:
    runtime = _stages()[-1]
    users = re.findall(r"^USER (\S+)$", runtime, flags=re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert 'ENTRYPOINT ["newswire"]' in runtime
    for setting in ("NEWSWIRE_HTTP_HOST=0.0.0.0", "NEWSWIRE_METRICS_HOST=0.0.0.0"):
        assert setting in runtime


def test_dependencies_are_installed_from_the_lock_before_the_sources_are_copied() -> None:
    build = _stages()[0]
    assert build.index("uv sync --frozen --no-dev --no-install-project") < build.index(
        "COPY services"
    )


def test_build_context_excludes_state_environments_and_tests() -> None:
    assert {".git", ".venv", ".newswire", "tests"} <= set(DOCKERIGNORE)
