"""Registration of the study's images and balanced trial sampling."""

from __future__ import annotations

import collections
import re

import numpy as np
import pytest

from talkbench.errors import TalkbenchError
from talkbench.media import read_image, read_png_provenance
from talkbench.study.trials import load_or_register, register, sample_trials


def test_register_gives_opaque_ids_inside_the_run(run_dir):
    reg = register(run_dir, seed=0)
    assert [s.name for s in reg.settings] == ["FF_T1", "FF_T8", "FT_T8"]
    assert len(reg.clips) == 3 * 4 and all(len(c.frames) == 5 for c in reg.clips)
    # 3 settings x 4 people x 5 frames x (fake + real) + one attention image per person
    assert len(reg.images) == 3 * 4 * 5 * 2 + 4
    for image_id, rel in reg.images.items():
        assert re.fullmatch(r"[0-9a-f]{16}", image_id)
        assert not rel.startswith("/") and ".." not in rel.split("/")
        assert (run_dir / rel).is_file()
    assert (run_dir / "study" / "registry.json").is_file()
    # ids say nothing about the role of an image
    fakes = {f for c in reg.clips for _, f, _ in c.frames}
    assert not any("fake" in i or "real" in i for i in reg.images) and len(fakes) == 60


def test_attention_images_are_broken_and_carry_provenance(run_dir):
    reg = register(run_dir)
    assert len(reg.attention) == 4
    for a in reg.attention:
        path = run_dir / reg.images[a.image]
        assert path.parent == run_dir / "study" / "attention"
        meta = read_png_provenance(path)
        assert meta["synthetic"] == "true" and meta["generator"] == "talkbench.study.attention"
        clip = next(c for c in reg.clips if (c.identity, c.video) == (a.identity, a.video))
        source = next(r for f, _, r in clip.frames if f == a.source_frame)
        diff = np.abs(read_image(path).astype(int) - read_image(run_dir / reg.images[source]).astype(int))
        assert diff.mean() > 40, "an attention image must be obviously broken"
        assert source not in a.reals and len(a.reals) == 4


def test_clips_with_too_few_frames_are_skipped_and_counted(tmp_path, make_run):
    run = make_run(tmp_path, settings=(("FF", 1),), identities=("a", "b"), frames=(1, 2))
    with pytest.raises(TalkbenchError, match="3 self-reenacted frames"):
        register(run)


@pytest.mark.parametrize("bad", ["../../outside.png", "/etc/passwd", "FF_T1/self/missing.png"])
def test_frames_csv_paths_must_stay_inside_generated(tmp_path, make_run, write_frames_csv, bad):
    run = make_run(tmp_path, settings=(("FF", 1),), identities=("a",))
    (tmp_path / "outside.png").write_bytes((run / "generated" / "frames.csv").read_bytes())
    row = {"setting": "FF_T1", "mode": "FF", "T": 1, "kind": "self", "identity": "a", "video": "v",
           "frame": 1, "fake_path": bad, "real_path": bad, "driver_identity": "a"}
    write_frames_csv(run, [row])
    with pytest.raises(TalkbenchError, match="frames.csv line 2"):
        register(run)


def test_missing_frames_csv_and_changed_frames(tmp_path, run_dir):
    with pytest.raises(TalkbenchError, match="talkbench run"):
        register(tmp_path / "nothing")
    first = load_or_register(run_dir)
    assert load_or_register(run_dir).images == first.images  # loaded, not re-registered
    with (run_dir / "generated" / "frames.csv").open("a") as fh:
        fh.write("FF_T1,FF,1,cross,x,y,0,FF_T1/self/id00001__vid0/0003_fake.png,,x\n")
    with pytest.raises(TalkbenchError, match="changed since the study was registered"):
        load_or_register(run_dir)


def test_trials_are_balanced_within_a_participant(run_dir):
    reg = register(run_dir)
    clips = {(c.setting, c.identity): c for c in reg.clips}
    for number in range(5):
        trials = sample_trials(reg, n_test=10, n_attention=2, seed=0, number=number)
        tests = [t for t in trials if t.kind == "test"]
        assert len(tests) == 10 and len(trials) == 12
        assert trials[0].kind == "test"
        per_setting = collections.Counter(t.setting for t in tests)
        assert set(per_setting) == {"FF_T1", "FF_T8", "FT_T8"}
        assert max(per_setting.values()) - min(per_setting.values()) <= 1
        for setting, n in per_setting.items():  # different people within a setting
            assert len({t.identity for t in tests if t.setting == setting}) == min(n, 4)
        for t in tests:
            clip = clips[(t.setting, t.identity)]
            fake = t.images[t.answer]
            fake_frame = next(f for f, fk, _ in clip.frames if fk == fake)
            reals = [i for k, i in enumerate(t.images) if k != t.answer]
            allowed = {r for f, _, r in clip.frames if f != fake_frame}
            assert len(set(reals)) == 2 and set(reals) <= allowed, "two real frames of other poses of the clip"
        for t in trials:
            if t.kind == "attention":
                assert t.images[t.answer] in {a.image for a in reg.attention}


def test_trials_balance_people_across_participants(run_dir):
    reg = register(run_dir)
    exposure: dict = {}
    answers = collections.Counter()
    for number in range(12):
        for t in sample_trials(reg, n_test=7, n_attention=0, seed=3, number=number, exposure=exposure):
            exposure[(t.setting, t.identity)] = exposure.get((t.setting, t.identity), 0) + 1
            answers[t.answer] += 1
    assert len(exposure) == 12  # every (setting, person) shown
    assert max(exposure.values()) - min(exposure.values()) <= 1
    per_setting = collections.Counter()
    for (setting, _), n in exposure.items():
        per_setting[setting] += n
    assert max(per_setting.values()) - min(per_setting.values()) <= 1  # the remainder rotates
    assert min(answers.values()) > 15, "the fake's position is random"


def test_sampling_is_deterministic_and_rejects_bad_counts(run_dir):
    reg = register(run_dir)
    assert sample_trials(reg, 9, 1, seed=1, number=2) == sample_trials(reg, 9, 1, seed=1, number=2)
    assert sample_trials(reg, 9, 1, seed=1, number=2) != sample_trials(reg, 9, 1, seed=1, number=3)
    with pytest.raises(TalkbenchError):
        sample_trials(reg, 0, 1, seed=0, number=0)
