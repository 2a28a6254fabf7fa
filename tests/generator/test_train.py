"""Meta-learning loop: outputs, checkpoint round trip, bit-exact resume, collapse guards."""

from __future__ import annotations

import contextlib
import csv
import json
import shutil

import pytest
import torch

from talkbench.generator import steps
from talkbench.generator.steps import CollapseGuard, TrainingCollapsed
from talkbench.generator.checkpoint import load_checkpoint, model_from_checkpoint
from talkbench.generator.losses import ContentLoss
from talkbench.generator.model import build_model
from talkbench.generator.train import make_optimizers, meta_step, train
from talkbench.media import read_png_provenance
from tests.generator.conftest import tiny_train_config


def _params(state):
    return {f"{n}.{k}": v for n in ("E", "G", "D") for k, v in state[n].items()}


def test_train_writes_run_and_resume_is_bit_exact(tiny_faces, tmp_path, empty_weights):
    cfg = tiny_train_config(steps=4)
    full = train(cfg, tiny_faces, tmp_path / "full", progress=False)
    # the same run, interrupted after step 2 and resumed
    train(tiny_train_config(steps=2), tiny_faces, tmp_path / "split", progress=False)
    with pytest.raises(Exception, match="--resume"):
        train(cfg, tiny_faces, tmp_path / "split", progress=False)
    resumed = train(cfg, tiny_faces, tmp_path / "split", resume=True, progress=False)
    a, b = load_checkpoint(full), load_checkpoint(resumed)
    assert a["step"] == b["step"] == 4
    pa, pb = _params(a), _params(b)
    assert pa.keys() == pb.keys()
    assert all(torch.equal(pa[k], pb[k]) for k in pa), [k for k in pa if not torch.equal(pa[k], pb[k])]
    assert all(torch.equal(x, y) for x, y in zip(a["opt_g"]["state"][0].values(), b["opt_g"]["state"][0].values()))
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"]), "the resumed run's saved RNG state differs"

    run = tmp_path / "full"
    rows = list(csv.DictReader(open(run / "log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert {"g_adv", "g_fm", "g_mch", "g_pixel_l1", "d_hinge", "d_mch"} <= set(rows[0])
    resumed_rows = list(csv.DictReader(open(tmp_path / "split" / "log.csv")))
    assert [int(r["step"]) for r in resumed_rows] == [1, 2, 3, 4]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["content_loss_parts"] == ["pixel_l1"] and manifest["offline_pixel_l1"] is True
    assert manifest["weights"] == [] and manifest["finished"]
    assert (run / "tb").is_dir() and any((run / "tb").iterdir())
    meta = read_png_provenance(run / "samples" / "step_0000004.png")
    assert meta["synthetic"] == "true" and "Zakharov" in meta["generator"]

    # a checkpoint loads into an identical model (weights_only) and W has one row per video
    model = model_from_checkpoint(a)
    assert model.D.W.shape[0] == len(a["videos"])
    assert torch.equal(model.G.state_dict()["out_conv.bias"], a["G"]["out_conv.bias"])


def test_guard_stops_on_nan_and_on_constant_images():
    guard = CollapseGuard(min_std=0.02, patience=2)
    ok = torch.rand(2, 3, 8, 8)
    guard.check(1, {"g_total": 1.0}, ok)
    with pytest.raises(TrainingCollapsed, match="not finite"):
        guard.check(2, {"g_total": float("nan"), "d_hinge": 1.0}, ok)
    flat = torch.full((2, 3, 8, 8), -1.0)
    guard.check(3, {"g_total": 1.0}, flat)
    with pytest.raises(TrainingCollapsed, match="near-constant"):
        guard.check(4, {"g_total": 1.0}, flat)


def test_training_stops_with_a_clear_message_on_nan_and_collapse(tiny_faces, tmp_path, empty_weights):
    cfg = tiny_train_config(steps=3)
    cfg.loss.pixel_l1 = 1e39  # overflows float32: an inf loss, as a bad weight or divergence gives
    with pytest.raises(TrainingCollapsed, match="step 1: loss .*g_pixel_l1.* not finite"):
        train(cfg, tiny_faces, tmp_path / "nan", progress=False)
    # every image counts as degenerate under an impossible threshold: stops after `patience` steps
    cfg = tiny_train_config(steps=6, guard_min_std=10.0, guard_patience=2)
    with pytest.raises(TrainingCollapsed, match="step 2: generated images are near-constant"):
        train(cfg, tiny_faces, tmp_path / "flat", progress=False)


def test_size_mismatch_is_a_clear_error(tiny_faces, tmp_path):
    from talkbench.errors import TalkbenchError
    from talkbench.generator.model import ModelConfig

    cfg = tiny_train_config()
    cfg.model = ModelConfig(preset="cpu64")
    with pytest.raises(TalkbenchError, match="32 px"):
        train(cfg, tiny_faces, tmp_path / "run", progress=False)


def test_sample_grid_is_one_row_per_episode():
    """shots (at most 4) | target landmarks | generated | target, for at most 4 episodes, from
    [-1, 1] tensors to uint8 (media.image_grid does the tiling)."""
    import numpy as np

    from talkbench.generator.train import sample_grid

    b, k, h, w = 5, 6, 8, 10
    batch = {"shots": torch.full((b, k, 3, h, w), -1.0), "target_landmarks": torch.zeros(b, 3, h, w),
             "target": torch.ones(b, 3, h, w)}
    grid = sample_grid(batch, torch.full((b, 3, h, w), 2.0))
    assert grid.shape == (4 * h, (4 + 3) * w, 3) and grid.dtype == np.uint8
    assert grid[0, 0, 0] == 0 and grid[0, 4 * w, 0] == 128 and grid[-1, -1, 0] == 255 and grid[0, 5 * w, 0] == 255


def test_time_limit_stops_with_a_checkpoint_of_the_last_step(tiny_faces, tmp_path, empty_weights):
    """A run out of time stops after the step it is on, checkpoints that step even off the
    ``checkpoint_every`` schedule, records the cut in its manifest, and resumes from there."""
    cfg = tiny_train_config(steps=4, checkpoint_every=2, time_limit_min=1e-9)
    ckpt = train(cfg, tiny_faces, tmp_path / "run", progress=False)
    assert load_checkpoint(ckpt)["step"] == 1
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["final_step"] == 1 and manifest["stopped_by_time_limit"] is True
    cfg.time_limit_min = 0.0
    train(cfg, tiny_faces, tmp_path / "run", resume=True, progress=False)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert load_checkpoint(ckpt)["step"] == 4
    assert manifest["final_step"] == 4 and manifest["stopped_by_time_limit"] is False
    assert manifest["resumed_from_step"] == 1


def test_rng_state_round_trip_restores_every_generator():
    """What a checkpoint stores of torch's, Python's and NumPy's global generators puts each
    back exactly where it was, so a resumed run draws the same numbers."""
    import random

    import numpy as np

    from talkbench.generator.rng_state import rng_state, set_rng_state

    def draws() -> tuple:
        return torch.rand(3).tolist(), random.random(), np.random.rand(3).tolist(), np.random.randn()

    np.random.seed(0)  # drops a gaussian NumPy may have cached: that cache is not part of the state
    state = rng_state()
    first = draws()
    set_rng_state(state)
    assert draws() == first


@pytest.mark.slow
@pytest.mark.skipif(not any(shutil.which(c) for c in ("g++", "clang++", "c++")),
                    reason="torch.compile on the CPU needs a C++ compiler (none here)")
def test_compiled_training_matches_eager_to_float_rounding_and_saves_plain_weights(tiny_faces, tmp_path, empty_weights):
    """compile=true (torch.compile of E, G, D) trains the same model: the same losses step by
    step and weights that differ by float rounding, far less than two training steps move
    them; the checkpoint holds the plain modules' keys."""
    runs = {c: train(tiny_train_config(steps=3, compile=c), tiny_faces, tmp_path / str(c), progress=False)
            for c in (False, True)}
    eager, compiled = (_params(load_checkpoint(runs[c])) for c in (False, True))
    assert eager.keys() == compiled.keys()  # no "_orig_mod." prefixes: the checkpoint loads into a plain model
    one_step = _params(load_checkpoint(train(tiny_train_config(steps=1), tiny_faces, tmp_path / "one", progress=False)))

    def mean_abs(a, b):
        return float(torch.cat([(a[k].float() - b[k].float()).abs().flatten() for k in a]).mean())
    # measured: 1.6e-6 against 2.7e-4; a wrong gradient would differ by about the movement itself
    assert mean_abs(eager, compiled) < 0.05 * mean_abs(eager, one_step)
    rows = {c: list(csv.DictReader(open(tmp_path / str(c) / "log.csv"))) for c in (False, True)}
    assert len(rows[False]) == len(rows[True]) == 3
    for a, b in zip(rows[False], rows[True]):
        for key in ("g_total", "d_hinge", "g_fm"):
            assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-3, abs=1e-4), (key, a["step"])


def test_compile_is_refused_up_front_without_a_cpp_compiler(monkeypatch):
    from talkbench.device import compile_module
    from talkbench.errors import TalkbenchError

    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(TalkbenchError, match="C\\+\\+ compiler"):
        compile_module(torch.nn.Linear(2, 2), torch.device("cpu"))


def test_generator_update_computes_no_discriminator_gradients_and_changes_nothing(monkeypatch):
    """D's parameters get a gradient only in D's own updates (the generator update has no use
    for them); the step's losses and weights are bitwise those of a step that computes them
    and throws them away, as gan_step did before."""
    g = torch.Generator().manual_seed(3)
    batch = {"shots": torch.rand(2, 2, 3, 32, 32, generator=g) * 2 - 1,
             "shot_landmarks": torch.rand(2, 2, 3, 32, 32, generator=g) * 2 - 1,
             "target": torch.rand(2, 3, 32, 32, generator=g) * 2 - 1,
             "target_landmarks": torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, "video_index": torch.tensor([0, 1])}
    cfg = tiny_train_config(d_steps=2)
    cfg.loss.vgg19 = cfg.loss.vggface = "off"

    def run() -> tuple[list[dict], dict, int]:
        torch.manual_seed(0)
        model = build_model(cfg.model, 2)
        opt_g, opt_d = make_optimizers(model, cfg)
        calls = [0]
        for p in model.D.parameters():
            p.register_hook(lambda grad: calls.__setitem__(0, calls[0] + 1))
        losses = [meta_step(model.E, model.G, model.D, batch, ContentLoss(cfg.loss), cfg, opt_g, opt_d,
                            torch.device("cpu"))[0] for _ in range(2)]
        assert all(p.requires_grad for p in model.D.parameters())  # unfrozen again for the next step
        return losses, model.state_dict(), calls[0]

    losses, state, d_grads = run()
    monkeypatch.setattr(steps, "_frozen", lambda params: contextlib.nullcontext())
    losses_before, state_before, d_grads_before = run()
    assert losses == losses_before
    assert all(torch.equal(state[k], state_before[k]) for k in state)
    used = d_grads_before // (2 * (cfg.d_steps + 1))  # D parameters reached by a backward pass
    assert used > 0 and d_grads == 2 * cfg.d_steps * used  # 2 steps × D's updates only
