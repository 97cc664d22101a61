"""The README's configuration table must list every setting, with its environment variable."""

from __future__ import annotations

from services.common.settings import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = (
            alias.choices[0]  # type: ignore[union-attr]
            if alias is not None
            else f"NEWSWIRE_{name.upper()}"
        )
        assert f"| `{name}` | `{env}` |" in README, f"setting {name} ({env}) missing from README"


def test_readme_names_the_two_commands() -> None:
    assert "make demo" in README
    assert "make test" in README
