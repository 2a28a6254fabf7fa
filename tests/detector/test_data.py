"""Frame tables, identity-disjoint splits, crops, and the perturbations/augmentations."""

import numpy as np
import pandas as pd
import pytest

from talkbench.data.crop import face_crop
from talkbench.detector.augment import WangAugment
from talkbench.detector.data import from_folders, from_generated, load_crops, select, split_by_identity
from talkbench.detector.perturb import ROBUSTNESS_CONDITIONS, Condition, blur, downscale, jpeg, noise
from talkbench.errors import TalkbenchError
from talkbench.media import write_png
from talkbench.provenance import provenance


def _table(n_ids=10, per=5):
    rows = [{"path": f"{i}_{k}_{lab}", "label": lab, "identity": f"id{i}", "video": f"v{i}", "setting": "s",
             "kind": "", "frame": k} for i in range(n_ids) for k in range(per) for lab in (0, 1)]
    return pd.DataFrame(rows)


def test_split_is_identity_disjoint_deterministic_and_complete():
    t = split_by_identity(_table(), seed=3)
    assert set(t.split) == {"train", "val", "test"}
    assert (t.groupby("identity").split.nunique() == 1).all()
    assert t.split.equals(split_by_identity(_table(), seed=3).split)
    assert (t.split == "train").mean() == pytest.approx(0.6, abs=0.1)
    t3 = split_by_identity(_table(n_ids=3), seed=0)  # the minimum: one identity each
    assert sorted(t3.groupby("split").identity.nunique()) == [1, 1, 1]
    with pytest.raises(TalkbenchError):
        split_by_identity(_table(n_ids=2))


def test_select_balances_classes():
    t = split_by_identity(_table(), seed=0)
    t = t.drop(t[(t.label == 0)].index[:7])  # fewer reals
    for split in ("train", "val", "test"):
        s = select(t, split)
        assert (s.label == 0).sum() == (s.label == 1).sum() > 0


def test_balancing_keeps_each_identity_s_class_ratio():
    """Fakes subsampled to the reals' count take each identity's share from the reals, so no
    identity is mostly fake (a detector could learn who, not whether)."""
    rows = [{"path": f"{i}_{k}_{lab}", "label": lab, "identity": f"id{i}", "video": "v", "setting": "s",
             "kind": "", "frame": k, "split": "train"}
            for i, (n_real, n_fake) in enumerate([(2, 10), (6, 10), (4, 3)])
            for lab, n in ((0, n_real), (1, n_fake)) for k in range(n)]
    t = pd.DataFrame(rows)
    for seed in range(5):
        s = select(t, "train", seed=seed)
        counts = s.groupby(["identity", "label"]).size().unstack()
        assert counts[0].tolist() == [2, 6, 4]
        # id2 has only 3 fakes: the one missing is drawn from the others' surplus
        assert counts[1].tolist()[2] == 3 and counts[1].sum() == 12
        assert counts[1].tolist()[:2] in ([3, 6], [2, 7])


def test_from_generated_reads_the_runner_layout(tmp_path, rng):
    gen = tmp_path / "generated"
    rows = []
    for setting in ("FF_T1", "FT_T8"):
        for f in range(3):
            d = f"{setting}/self/alice__v1"
            img = rng.integers(0, 255, (64, 64, 3), np.uint8)
            write_png(gen / d / f"{f:04d}_fake.png", img, provenance("test", "0" * 16))
            write_png(gen / d / f"{f:04d}_real.png", img)
            rows.append({"setting": setting, "mode": setting[:2], "T": setting[4:], "kind": "self",
                         "identity": "alice", "video": "v1", "frame": f, "fake_path": f"{d}/{f:04d}_fake.png",
                         "real_path": f"{d}/{f:04d}_real.png", "driver_identity": ""})
    # both settings point at their own copies of the same ground truth: one real row per source frame
    pd.DataFrame(rows).to_csv(gen / "frames.csv", index=False)
    t = from_generated(tmp_path)  # RUN folder
    assert (t.label == 1).sum() == 6 and (t.label == 0).sum() == 3
    assert sorted(t[t.label == 0].frame) == [0, 1, 2]
    assert set(t[t.label == 0].setting) == {"real"}
    assert load_crops(t.path, 32).shape == (9, 32, 32, 3)
    pd.DataFrame(rows).drop(columns="real_path").to_csv(gen / "frames.csv", index=False)
    with pytest.raises(TalkbenchError, match="real_path"):
        from_generated(gen)


def test_folders_and_crops(tmp_path, rng):
    for cls in ("real", "fake"):
        for i in range(2):
            write_png(tmp_path / cls / f"p{i}" / "a.png", rng.integers(0, 255, (50, 80, 3), np.uint8))
    t = from_folders(tmp_path / "real", tmp_path / "fake")
    assert list(t.label) == [0, 0, 1, 1] and list(t.identity) == ["p0", "p1", "p0", "p1"]
    assert load_crops(t.path, 24).shape == (4, 24, 24, 3)
    with pytest.raises(TalkbenchError):
        from_folders(tmp_path / "nope", tmp_path / "fake")
    img = rng.integers(0, 255, (100, 120, 3), np.uint8)
    for box in ([10, 10, 60, 70], [-20, -5, 30, 40], [90, 60, 130, 110]):  # inside, over the edges
        assert face_crop(img, np.array(box), 32).shape == (32, 32, 3)


def test_perturbations_degrade_monotonically(rng):
    img = np.clip(rng.normal(128, 40, (64, 64, 3)), 0, 255).astype(np.uint8)
    err = lambda a: np.abs(a.astype(float) - img).mean()  # noqa: E731
    assert err(jpeg(img, 30)) > err(jpeg(img, 90)) > err(jpeg(img, 100)) >= 0
    assert err(blur(img, 3)) > err(blur(img, 1)) > 0 and err(blur(img, 0)) == 0
    assert err(downscale(img, 0.25)) > err(downscale(img, 0.5)) > 0 and err(downscale(img, 1)) == 0
    assert (noise(img, 0.05).astype(float) - img).std() == pytest.approx(0.05 * 255, rel=0.2)
    batch = np.stack([img, img])
    for cond in ROBUSTNESS_CONDITIONS:
        assert cond.apply(batch).shape == batch.shape
    assert {c.perturbation for c in ROBUSTNESS_CONDITIONS} == {"jpeg", "blur", "downscale", "noise"}
    with pytest.raises(TalkbenchError):
        Condition("sharpen", 1).apply(batch)


def test_wang_augment_is_seeded_and_changes_images(rng):
    batch = np.clip(rng.normal(128, 40, (16, 32, 32, 3)), 0, 255).astype(np.uint8)
    aug = WangAugment()
    a = aug(batch, np.random.default_rng(1))
    b = aug(batch, np.random.default_rng(1))
    assert np.array_equal(a, b) and a.shape == batch.shape
    changed = [not np.array_equal(x, y) for x, y in zip(a, batch)]
    assert 8 <= sum(changed) < 16  # P(untouched) = 1/8 per image
    assert np.array_equal(WangAugment(0, jpeg_p=0, flip_p=0)(batch, rng), batch)
