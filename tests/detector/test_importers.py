"""`talkbench detect import` on tiny replicas of each dataset layout (built from the real
videos in ../shared, see replicas.py): labels, the dataset's own splits honoured, bad layouts
as one-line errors or counted skips; a detector trained on an import separates held-out
videos; the cross-dataset matrix; predict's verdicts and training-domain warnings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talkbench.cli import main
from talkbench.detector.data import from_data
from talkbench.detector.importers.build import CROP_COLUMNS
from tests.detector import replicas

N_SOURCES = 6
FRAMES = ["--frames", "4", "--workers", "1"]


@pytest.fixture
def srcs(shared_videos):
    found = replicas.sources(str(shared_videos))[:N_SOURCES]
    if len(found) < N_SOURCES:
        pytest.skip("dlib found too few faces in the shared videos")
    return found


def _import(fmt: str, src: Path, out: Path, *extra: str) -> pd.DataFrame:
    assert main(["detect", "import", fmt, str(src), str(out), *FRAMES, *extra]) == 0
    table = pd.read_csv(out / "crops.csv", dtype={"identity": str, "video": str})
    assert list(table.columns) == CROP_COLUMNS
    assert all((out / p).is_file() for p in table.path)
    return table


def _skipped(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "skipped.csv")


def _fails(capsys, message: str, argv: list[str]) -> None:
    """The command exits non-zero with a one-line error containing ``message``."""
    capsys.readouterr()
    assert main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def _split_of(table: pd.DataFrame) -> dict[str, str]:
    by_video = table.drop_duplicates("video").set_index("video").split
    return by_video.to_dict()


@pytest.mark.slow
def test_ffpp_official_splits_and_learning(tmp_path, srcs, capsys):
    splits = replicas.build_ffpp(tmp_path / "ffpp", srcs)
    (tmp_path / "ffpp" / "original_sequences" / "youtube" / "c23" / "videos" / "011.mp4").unlink()  # listed in test
    out = tmp_path / "imp"
    table = _import("ffpp", tmp_path / "ffpp", out, "--splits", str(tmp_path / "ffpp" / "splits"),
                    "--methods", "Face2Face")
    assert set(table.method) == {"real", "Face2Face"} and set(table.dataset) == {"ffpp"}
    split_of = _split_of(table)
    for split, pairs in splits.items():
        for a, b in pairs:
            for video in (f"real_youtube__{a}", f"Face2Face__{a}_{b}"):
                if video in split_of:
                    assert split_of[video] == split, video
    skipped = _skipped(out)
    assert "listed in splits/test.json but absent" in set(skipped.reason)
    # the split is kept by detect train; a detector learns the manipulation on held-out videos
    det = tmp_path / "det"
    assert main(["detect", "train", "--data", str(out), "--detector", "spectral_logreg", "--out", str(det)]) == 0
    kept = pd.read_csv(det / "splits.csv", dtype={"video": str})
    assert _split_of(kept) == {v: s for v, s in split_of.items() if v in set(kept.video)}
    res = tmp_path / "res"
    assert main(["detect", "eval", "--checkpoint", str(det / "detector.joblib"), "--results", str(res),
                 "--bootstrap", "50"]) == 0
    rows = pd.read_csv(res / "detection.csv")
    frame = rows[rows.level == "frame"].iloc[0]
    assert frame.auc > 0.75, frame.to_dict()
    # rerun: resumable, nothing redone, same table
    again = _import("ffpp", tmp_path / "ffpp", out, "--splits", str(tmp_path / "ffpp" / "splits"),
                    "--methods", "Face2Face")
    pd.testing.assert_frame_equal(again, table)


def test_ffpp_bad_layouts(tmp_path, capsys):
    _fails(capsys, "no original_sequences", ["detect", "import", "ffpp", str(tmp_path), str(tmp_path / "o")])
    (tmp_path / "original_sequences").mkdir()
    _fails(capsys, "unknown method", ["detect", "import", "ffpp", str(tmp_path), str(tmp_path / "o"), "--methods", "Nope"])


def test_celebdf_test_list(tmp_path, srcs, capsys):
    root = tmp_path / "celebdf"
    test = replicas.build_celebdf(root, srcs[:4])
    with open(root / "List_of_testing_videos.txt", "a") as f:
        f.write("1 Celeb-real/id99_0000.mp4\n")
    out = tmp_path / "imp"
    table = _import("celebdf", root, out)
    videos = table.drop_duplicates("video")
    assert set(videos[videos.split == "test"].source) == set(test)
    assert set(videos[videos.split != "test"].split) <= {"train", "val"}
    assert set(videos[videos.source.str.startswith("Celeb-synthesis")].label) == {1}
    assert set(videos[videos.source.str.contains("-real/")].label) == {0}
    assert "listed in List_of_testing_videos.txt but absent" in set(_skipped(out).reason)
    (root / "List_of_testing_videos.txt").write_text("garbage line here\n")
    _fails(capsys, "List_of_testing_videos.txt:1", ["detect", "import", "celebdf", str(root), str(tmp_path / "imp2"), *FRAMES])


def test_dfdc_metadata_and_missing_parts(tmp_path, srcs, capsys):
    root = tmp_path / "dfdc"
    replicas.build_dfdc(root, srcs[:4])
    (root / "train" / "dfdc_train_part_1" / "metadata.json").unlink()
    out = tmp_path / "imp"
    table = _import("dfdc", root, out)
    videos = table.drop_duplicates("video")
    assert set(videos[videos.source.str.startswith("test/")].split) == {"test"}
    labels = pd.read_csv(root / "test" / "labels.csv")
    want = dict(zip("test/" + labels.filename, labels.label))
    got = dict(zip(videos.source, videos.label))
    assert all(got[k] == v for k, v in want.items() if k in got)
    skipped = _skipped(out)
    n_part1 = len(list((root / "train" / "dfdc_train_part_1").glob("*.mp4")))
    assert (skipped.reason == "no metadata.json in train/dfdc_train_part_1").sum() == n_part1 > 0
    # fakes share a split with the real video they were made from
    train = videos[videos.source.str.startswith("train/")]
    assert train.groupby("identity").split.nunique().max() == 1
    (root / "train" / "dfdc_train_part_0" / "metadata.json").unlink()
    (root / "test" / "labels.csv").unlink()
    _fails(capsys, "no metadata.json in any", ["detect", "import", "dfdc", str(root), str(tmp_path / "imp2")])


def test_deepfakebench_json(tmp_path, srcs, capsys):
    root = tmp_path / "dfb"
    path = replicas.build_deepfakebench(root, srcs[:4])
    data = json.loads(path.read_text())
    data["FaceForensics++"]["FF-DF"]["train"]["c23"]["9999"] = {"label": "FF-DF", "frames": []}
    path.write_text(json.dumps(data))
    out = tmp_path / "imp"
    table = _import("deepfakebench", path, out, "--name", "ff-dfb")
    videos = table.drop_duplicates("video")
    for label, lab in (("FF-real", 0), ("FF-DF", 1)):
        for split, node in data["FaceForensics++"][label].items():
            for video in node["c23"]:
                row = videos[videos.video == f"{label}__{video}"]
                if len(row):
                    assert row.split.iloc[0] == split and row.label.iloc[0] == lab
    assert "no frames listed in the JSON (video never preprocessed?)" in set(_skipped(out).reason)
    path.write_text("{}")
    _fails(capsys, "empty or not a DeepfakeBench", ["detect", "import", "deepfakebench", str(path), str(tmp_path / "imp2")])


def test_folders_unreadable_video_is_counted(tmp_path, srcs, capsys):
    root = tmp_path / "folders"
    replicas.build_folders(root, srcs[:4])
    (root / "fake" / "broken.mp4").write_bytes(b"not a video at all")
    out = tmp_path / "imp"
    table = _import("folders", root, out)
    assert set(table.split) == {"train", "val", "test"}
    assert table.groupby("identity").split.nunique().max() == 1
    reasons = _skipped(out).set_index("source").reason
    assert reasons["fake/broken.mp4"].startswith("corrupt or unreadable video")
    assert len(from_data(out)) == len(table)
    _fails(capsys, "needs folders real/ and fake/", ["detect", "import", "folders", str(root / "real"), str(tmp_path / "x")])


@pytest.mark.slow
def test_cross_dataset_matrix_and_predict_domain(tmp_path, srcs, shared_videos, capsys):
    replicas.build_folders(tmp_path / "folders", srcs)
    replicas.build_dfdc(tmp_path / "dfdc", srcs)
    _import("folders", tmp_path / "folders", tmp_path / "a")
    _import("dfdc", tmp_path / "dfdc", tmp_path / "b")
    res = tmp_path / "res"
    assert main(["detect", "cross", "--datasets", f"folders={tmp_path / 'a'}", f"dfdc={tmp_path / 'b'}",
                 "--detectors", "spectral_logreg", "--out", str(tmp_path / "dets"), "--results", str(res),
                 "--bootstrap", "50"]) == 0
    rows = pd.read_csv(res / "cross_dataset.csv")
    assert len(rows) == 2 * 2 * 2 and set(rows.train_dataset) == set(rows.test_dataset) == {"folders", "dfdc"}
    assert (rows.auc_ci_low <= rows.auc + 1e-9).all() and (rows.auc <= rows.auc_ci_high + 1e-9).all()
    diag = rows[(rows.train_dataset == rows.test_dataset) & (rows.level == "frame")]
    assert (diag.auc > 0.7).all(), diag
    assert (res / "cross_dataset" / "spectral_logreg__video.png").is_file()
    # predict on a folder of mixed videos: verdicts, the training domain, and a warning for
    # inputs the detector never saw (the replica fake says in its provenance it is synthetic)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "real.mp4").write_bytes((shared_videos / "liveportrait_d18.mp4").read_bytes())
    (mixed / "fake.mp4").write_bytes((tmp_path / "folders" / "fake" / srcs[0][0] / "0.mp4").read_bytes())
    (mixed / "broken.mp4").write_bytes(b"garbage")
    capsys.readouterr()
    det = tmp_path / "dets" / "spectral_logreg__folders" / "detector.joblib"
    assert main(["detect", "predict", str(mixed), "--checkpoint", str(det), "--out", str(tmp_path / "pred")]) == 0
    printed = capsys.readouterr().out
    assert "trained on: datasets folders" in printed and "outside the training domain" in printed
    verdicts = pd.read_csv(tmp_path / "pred" / "verdicts.csv").set_index("file")
    assert verdicts.loc[str(mixed / "broken.mp4"), "verdict"] == "unscored"
    assert verdicts.loc[str(mixed / "fake.mp4"), "verdict"] in ("fake", "real")
    assert not verdicts.loc[str(mixed / "fake.mp4"), "in_domain"]
    assert verdicts.loc[str(mixed / "real.mp4"), "in_domain"] and verdicts.loc[str(mixed / "real.mp4"), "n_faces"] > 0


def test_outside_domain_of_a_synthetic_only_detector(shared_videos, tmp_path):
    from talkbench.detector.domain import outside_domain
    from talkbench.media import write_video
    from talkbench.provenance import provenance

    synth = tmp_path / "synth.mp4"
    write_video(synth, np.zeros((2, 32, 32, 3), np.uint8), 25, provenance(generator="test", config_fingerprint="x"))
    real = sorted(shared_videos.glob("*.mp4"))[0]
    cartoon = {"datasets": ["talkbench"], "real_footage": ["synthetic"], "methods": ["FT_T32"]}
    out = outside_domain(cartoon, [real, synth])
    assert "never seen real footage" in out[str(real)] and str(synth) not in out
    assert outside_domain(None, [real]) == {}


def test_bootstrap_by_video_is_wider_than_by_frame():
    from talkbench.detector.metrics import bootstrap_auc, bootstrap_auc_by_group

    rng = np.random.default_rng(0)
    y = np.repeat([0] * 10 + [1] * 10, 20)
    video_score = rng.normal(size=20) + np.r_[np.zeros(10), np.ones(10)]
    s = np.repeat(video_score, 20) + rng.normal(scale=0.01, size=400)  # frames of a video move together
    groups = np.repeat(np.arange(20), 20)
    lo_f, hi_f = bootstrap_auc(y, s, 500, 0)
    lo_v, hi_v = bootstrap_auc_by_group(y, s, groups, 500, 0)
    lo_1, hi_1 = bootstrap_auc(np.repeat([0, 1], 10), video_score, 500, 0)
    assert hi_v - lo_v > 2 * (hi_f - lo_f)
    assert abs((hi_v - lo_v) - (hi_1 - lo_1)) < 0.1  # like resampling the 20 videos themselves


def test_generated_run_records_its_footage(tmp_path):
    from talkbench.detector.data import run_footage
    from talkbench.detector.domain import training_domain
    from talkbench.files import write_json

    run = tmp_path / "run"
    assert run_footage(run) == "unknown"
    write_json(run / "stages" / "data.json", {"result": {"dataset": str(tmp_path / "ds"), "source": "synthetic"}})
    write_json(tmp_path / "ds" / "meta.json", {"format": "talkbench-faces", "source": "synthetic"})
    assert run_footage(run) == "synthetic"
    table = pd.DataFrame({"label": [0, 1], "setting": ["real", "FT_T32"], "video": ["v", "v"], "dataset": "talkbench",
                          "footage": ["synthetic", "talkbench generator"], "crop": "prepare"})
    dom = training_domain(table, 64)
    assert dom["real_footage"] == ["synthetic"] and dom["methods"] == ["FT_T32"] and dom["datasets"] == ["talkbench"]


def test_old_detector_in_a_synthetic_run_is_flagged_on_real_video(tmp_path, shared_videos):
    from talkbench.detector.domain import infer_domain, outside_domain
    from talkbench.files import write_json

    run = tmp_path / "run"
    write_json(run / "stages" / "data.json", {"result": {"dataset": str(tmp_path / "ds"), "source": "synthetic"}})
    write_json(tmp_path / "ds" / "meta.json", {"source": "synthetic"})
    ckpt = run / "detection" / "models" / "resnet10t_64__FT_T32" / "detector.pt"
    dom = infer_domain(ckpt)
    assert dom["real_footage"] == ["synthetic"] and dom["methods"] == ["FT_T32"]
    real = sorted(shared_videos.glob("*.mp4"))[0]
    assert "never seen real footage" in outside_domain(dom, [real])[str(real)]
    assert infer_domain(tmp_path / "elsewhere" / "detector.pt") is None
