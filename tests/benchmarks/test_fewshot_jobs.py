"""The few-shot jobs of the generate and adversarial stages: run side by side in one-thread
worker processes they write exactly what they write one after another in this process, and
a finished job is read back, not redone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from talkbench.benchmarks.stage_runner import StageContext
from talkbench.benchmarks.stages.generate import FewShotJob, run_fewshot_jobs
from talkbench.data.dataset import FaceDataset
from talkbench.detector.differentiable import EvasionLoss
from talkbench.detector.registry import create_detector
from talkbench.device import torch_threads
from talkbench.generator.episodes import few_shot_cases
from talkbench.generator.ft_config import FineTuneConfig
from talkbench.media import read_image


def _jobs(out: Path, checkpoint, tiny_faces) -> list[FewShotJob]:
    ds = FaceDataset(tiny_faces)
    cases = few_shot_cases(ds, split="test", shots=(1, 4), max_videos=1)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, ds.size, ds.size, 3), dtype=np.uint8)
    evade = EvasionLoss([create_detector("spectral_logreg", size=ds.size).fit(x, np.r_[np.zeros(4), np.ones(4)])], 2.0)
    base = FewShotJob(out=out, setting="", mode="FT", case=None, checkpoint=Path(checkpoint),
                      ft=FineTuneConfig(steps=3, lr_g=1e-3, lr_d=1e-3), device="cpu")
    jobs = [dataclasses.replace(base, setting=f"{mode}_T{c.T}", mode=mode, case=c) for mode in ("FF", "FT") for c in cases]
    return jobs + [dataclasses.replace(base, setting="FT_evade", case=cases[0], extra_loss=evade, samples=out / "grids")]


def test_workers_write_what_one_process_writes_and_finished_jobs_are_kept(tmp_path, checkpoint, tiny_faces):
    tables = {}
    for name, threads in (("one", 1), ("pool", 2)):  # one thread: in this process; two: two worker processes
        out = tmp_path / name
        with torch_threads(threads):
            tables[name] = run_fewshot_jobs(StageContext(out, "generate", "f", show_progress=False),
                                            _jobs(out, checkpoint, tiny_faces), "test")
    one, pool = tables["one"], tables["pool"]
    assert len(one) > 0 and one.equals(pool)
    assert set(one.setting) == {"FF_T1", "FF_T4", "FT_T1", "FT_T4", "FT_evade"}
    for rel in one.fake_path:
        np.testing.assert_array_equal(read_image(tmp_path / "one" / rel), read_image(tmp_path / "pool" / rel))
    assert (tmp_path / "pool" / "grids").is_dir()
    fake = tmp_path / "pool" / pool.fake_path.iloc[-1]
    before = fake.stat().st_mtime_ns
    with torch_threads(2):
        again = run_fewshot_jobs(StageContext(tmp_path / "pool", "generate", "f", show_progress=False),
                                 _jobs(tmp_path / "pool", checkpoint, tiny_faces), "test")
    assert again.equals(pool) and fake.stat().st_mtime_ns == before


def test_workers_are_one_per_thread_on_the_cpu_and_as_many_as_the_memory_holds(monkeypatch, tmp_path, checkpoint,
                                                                             tiny_faces):
    import types

    import psutil

    from talkbench.benchmarks.stages import generate

    jobs = _jobs(tmp_path, checkpoint, tiny_faces)
    each = generate.fewshot_worker_bytes(jobs[0].case.shot_frames.shape[1])
    with torch_threads(8):
        for available, workers in ((100 * each, 8), (3.5 * each, 3), (0.2 * each, 1)):
            monkeypatch.setattr(psutil, "virtual_memory", lambda available=available: types.SimpleNamespace(available=available))
            assert generate.fewshot_workers(jobs) == workers
        assert generate.fewshot_workers([dataclasses.replace(j, device="cuda") for j in jobs]) == 1
