"""The learned article genre: its file round-trips, and `article_genre` takes its call only where
the cues say nothing, above the threshold, under an unarmed headline."""

from __future__ import annotations

from pathlib import Path

from services.text.frame import GENRE_THRESHOLD, article_genre, load_frame
from services.text.genre_model import GenreModel, default_genre_model
from services.text.sentences import split_sentences

# A two-word model for one function's test: "goal" says sport, "rally" says news, strongly.
TINY = GenreModel(
    biases={"news": 0.0, "sport": 0.0},
    weights={"goal": {"sport": 20.0}, "rally": {"news": 20.0}},
    metadata={},
)


def _genre(text: str, model: GenreModel | None = TINY) -> tuple[str, str]:
    call = article_genre(text, split_sentences(text), load_frame(), model)
    return call.genre, call.cue


def test_the_file_round_trips_to_the_same_calls(tmp_path: Path) -> None:
    path = tmp_path / "g.json.gz"
    TINY.save(path)
    again = GenreModel.load(path)
    assert again.best("a late goal") == TINY.best("a late goal")
    assert again.best("a late goal")[0] == "sport"
    assert path.read_bytes() == (TINY.save(path) or path.read_bytes())  # same bytes each time


def test_the_model_speaks_where_the_cues_are_silent() -> None:
    genre, cue = _genre("A late goal settles it. The home side held on.")
    assert genre == "sport" and cue.startswith("genre model")
    assert _genre("A late goal settles it. The home side held on.", None)[0] == "news"


def test_below_the_threshold_or_under_an_armed_headline_it_is_news() -> None:
    assert TINY.best("nothing known here")[1] < GENRE_THRESHOLD
    assert _genre("Nothing known here. Nor here.")[0] == "news"
    assert _genre("Rebels fire rockets after a late goal. Two were hurt.")[0] == "news"


def test_a_cue_decides_before_the_model() -> None:
    genre, cue = _genre("Fact check: the goal video is old. It was filmed years ago.")
    assert genre == "fact-check" and not cue.startswith("genre model")


def test_the_shipped_model_calls_plain_sport_and_business_items() -> None:
    model = default_genre_model()
    assert model is not None
    sport = (
        "Midfielder scores late winner as league leaders beat rivals 2-1. The home side stayed top."
    )
    business = "Quarterly profit jumps at chip maker. Net income rose 12 percent on strong demand."
    attack = "Rebels attack convoy near border town. Five soldiers were killed, officials said."
    assert model.best(sport)[0] == "sport"
    assert model.best(business)[0] == "business"
    assert model.best(attack)[0] == "news"
