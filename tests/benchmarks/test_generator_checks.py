"""The generator checks over more people than were generated: FF for the others is drawn
from their own ê exactly as the FF model draws it; FT and its nearest-shot baseline only
where the suite made FT fakes; the real frames' identity embedding is computed once a person."""

from __future__ import annotations

import numpy as np
import torch

from talkbench.benchmarks.generator_checks import PersonFakes, person_fakes, score_people
from talkbench.benchmarks.stages.generate import select_cases
from talkbench.data.dataset import FaceDataset
from talkbench.generator.checkpoint import load_checkpoint, model_from_checkpoint
from talkbench.generator.episodes import few_shot_cases
from talkbench.generator.fewshot import build_fewshot


def test_people_not_generated_get_the_ff_model_fakes_and_no_ft(tiny_faces, checkpoint, one_torch_thread):
    dataset = FaceDataset(tiny_faces)
    cases = select_cases(few_shot_cases(dataset, "test", shots=(1, 2), n_heldout=2, n_cross=2), 0)  # a video a person
    people = sorted({c.identity for c in cases})
    assert len(people) == 2
    made, left = people
    marker = {mode: np.full((2, dataset.size, dataset.size, 3), v, np.uint8) for mode, v in (("FF", 7), ("FT", 9))}
    generated = {mode: (lambda c, m=mode: marker[m] if c.identity == made else None) for mode in ("FF", "FT")}
    model = model_from_checkpoint(load_checkpoint(checkpoint), torch.device("cpu")).eval()

    out = {(p.identity, p.T): p for p in person_fakes(model, dataset, cases, generated)}
    assert len(out) == 4
    for t in (1, 2):
        kept = out[(made, t)].fakes
        assert set(kept) == {"FF", "FT", "FF-other-ê", "FF-mean-ê", "nearest-shot"}
        assert (kept["FF"] == 7).all() and (kept["FT"] == 9).all()
        drawn = out[(left, t)].fakes
        assert set(drawn) == {"FF", "FF-other-ê", "FF-mean-ê"}
        case = next(c for c in cases if c.identity == left and c.T == t)
        ff = build_fewshot(checkpoint, case.shot_frames, case.shot_landmarks, "FF", device="cpu")
        expected = ff.generate(case.heldout_landmarks)
        assert np.abs(drawn["FF"].astype(int) - expected.astype(int)).max() <= 1  # float order, then rounding
        assert not np.array_equal(drawn["FF"], drawn["FF-other-ê"])

    calls = []

    def embed(images: np.ndarray) -> np.ndarray:
        calls.append(len(images))
        return np.tile(np.eye(4, dtype=np.float32)[0], (len(images), 1))

    scores = score_people(list(out.values()), embed)
    n_fakes = sum(len(p.fakes) for p in out.values())
    assert len(calls) == n_fakes + 2  # the real frames once per person, not once per T
    fakes, real = scores[scores["method"] != "real"], scores[scores["method"] == "real"]
    assert (fakes["id_sim"] == 1.0).all() and len(fakes) == n_fakes
    assert len(real) == 4 and (real["face_rate"] == 1.0).all() and real["ssim"].isna().all()


def test_the_real_frames_face_rate_is_reported_beside_the_fakes():
    """A person whose real frames the face backend misses half the time: their real row says
    0.5, so a fake's 0.5 reads as the backend's limit, not the generator's."""
    real = np.zeros((4, 16, 16, 3), np.uint8)
    real[:2] = 200  # the backend "finds" a face in bright frames only
    fake = np.full((4, 16, 16, 3), 200, np.uint8)

    def embed(images: np.ndarray) -> np.ndarray:
        out = np.tile(np.eye(4, dtype=np.float32)[0], (len(images), 1))
        out[images.reshape(len(images), -1).mean(axis=1) < 100] = np.nan
        return out

    scores = score_people([PersonFakes("p", 1, real, {"FF": fake})], embed).set_index("method")
    assert scores.loc["real", "face_rate"] == 0.5 and scores.loc["FF", "face_rate"] == 1.0
    assert scores.loc["FF", "id_sim"] == 1.0 and list(scores.index) == ["real", "FF"]
    assert score_people([PersonFakes("p", 1, real, {"FF": fake})], None)["method"].tolist() == ["FF"]
