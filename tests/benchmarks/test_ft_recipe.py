"""Which FT recipe a one-person command (`talkbench fewshot`, `talkbench attack fewshot`) uses:
the suite named by --recipe, else the suite run that trained the checkpoint, else the paper's."""

from __future__ import annotations

import pytest

from talkbench.benchmarks.suite import fine_tune_config, load_suite, recipe_fine_tuning
from talkbench.cli import main
from talkbench.errors import TalkbenchError
from talkbench.files import write_json, write_text
from talkbench.generator.fewshot import FewShotModel
from talkbench.generator.ft_config import FineTuneConfig


def _suite_run(tmp_path, made_by_run: bool = True, status: str = "done"):
    """A suite run folder whose train stage made RUN/train/checkpoint.pt (or another file)."""
    run = tmp_path / "run"
    checkpoint = run / "train" / "checkpoint.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"")
    write_text(run / "config.yaml", "name: mine\nseed: 3\nfewshot: {ft_epochs: 7, ft_batch: 2, ft_average: 0.2}\n")
    made = checkpoint if made_by_run else run / "train" / "other.pt"
    write_json(run / "stages" / "train.json", {"status": status, "result": {"checkpoint": str(made)}})
    return checkpoint


def test_default_recipe_is_the_suite_run_that_trained_the_checkpoint(tmp_path):
    ft = recipe_fine_tuning(None, _suite_run(tmp_path))
    assert (ft.epochs, ft.batch_size, ft.average, ft.seed) == (7.0, 2, 0.2, 3)


@pytest.mark.parametrize("where", ["loose", "not made by the run", "training unfinished"])
def test_any_other_checkpoint_gets_the_papers_recipe(tmp_path, where):
    if where == "loose":
        checkpoint = tmp_path / "checkpoint.pt"
        checkpoint.write_bytes(b"")
    else:
        checkpoint = _suite_run(tmp_path, made_by_run=where != "not made by the run",
                                status="running" if where == "training unfinished" else "done")
    assert recipe_fine_tuning(None, checkpoint) == FineTuneConfig()  # 40 epochs of 8 at the training rates


def test_a_named_recipe_wins_and_equals_that_suites_ft(tmp_path):
    ft = recipe_fine_tuning("default", _suite_run(tmp_path))
    assert ft == fine_tune_config(load_suite("default"))
    assert (ft.batch_size, ft.average, ft.lr_g) == (4, 0.1, 1e-3)
    assert recipe_fine_tuning("paper", tmp_path / "x.pt") == FineTuneConfig()
    with pytest.raises(TalkbenchError, match="unknown suite"):
        recipe_fine_tuning("nope", tmp_path / "x.pt")


def test_fewshot_command_fine_tunes_with_the_recipe(checkpoint, tiny_faces, tmp_path, capsys):
    out = tmp_path / "person.pt"
    assert main(["fewshot", str(checkpoint), str(out), "--frames", str(tiny_faces), "--mode", "FT", "--shots", "2",
                 "--recipe", "quick", "--quiet"]) == 0, capsys.readouterr().err
    assert FewShotModel.load(out).info["ft"]["steps"] == fine_tune_config(load_suite("quick")).steps == 1
    assert main(["fewshot", str(checkpoint), str(out), "--frames", str(tiny_faces), "--recipe", "quick"]) == 2
    assert "--mode FT" in capsys.readouterr().err
