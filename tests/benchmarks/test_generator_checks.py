"""The generator checks over more people than were generated: FF for the others is drawn
from their own ê exactly as the FF model draws it; FT and its nearest-shot baseline only
where the suite made FT fakes; the real frames' identity embedding is computed once a person."""

from __future__ import annotations

import numpy as np
import torch

from talkbench.benchmarks.generator_checks import person_fakes, score_people
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
    assert (scores["id_sim"] == 1.0).all() and len(scores) == n_fakes
