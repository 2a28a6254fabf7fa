"""compute_metrics and `talkbench metrics`: unavailable weights, strict mode, bad input."""

import json

import numpy as np
import pytest
from PIL import Image

from talkbench.cli import main
from talkbench.errors import TalkbenchError
from talkbench.metrics.api import compute_metrics
from talkbench.metrics.inputs import ImageSet, make_pairs


@pytest.fixture
def folders(tmp_path, rng):
    real, fake = tmp_path / "real", tmp_path / "fake"
    real.mkdir(), fake.mkdir()
    for i in range(4):
        img = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        Image.fromarray(img).save(real / f"{i:04d}_real.png")
        Image.fromarray(np.clip(img.astype(int) + 20, 0, 255).astype(np.uint8)).save(fake / f"{i:04d}_fake.png")
    # grayscale real / RGBA fake of a different size: converted and resized, still scored
    gray = rng.integers(0, 256, (40, 40), dtype=np.uint8)
    Image.fromarray(gray).save(real / "0004_real.png")
    Image.fromarray(np.dstack([gray, gray, gray, np.full_like(gray, 255)])).resize((80, 80)).save(fake / "0004_fake.png")
    (real / "0005_real.png").write_bytes(b"not a png")
    Image.fromarray(gray).save(fake / "0005_fake.png")
    return real, fake


def test_missing_weights_are_unavailable_never_numbers(folders, empty_weights):
    results = {r.name: r for r in compute_metrics(*folders, ["fid", "kid", "lpips", "ssim"])}
    for name, asset in (("FID", "inception-fid"), ("KID", "inception-fid"), ("LPIPS", "alexnet")):
        assert results[name].status == "unavailable" and results[name].value is None
        assert asset in results[name].reason and "talkbench weights download" in results[name].reason
    ssim = results["SSIM"]
    assert ssim.status == "ok" and ssim.n == 5 and ssim.n_failed == 1  # the unreadable file is counted
    assert np.isnan(results["FID"].as_row()["value"])


def test_strict_turns_unavailable_into_an_error(folders, empty_weights):
    with pytest.raises(TalkbenchError, match="FID cannot be computed.*inception-fid"):
        compute_metrics(*folders, ["fid", "ssim"], strict=True)


def test_unavailable_face_backend_is_reported(folders, empty_weights):
    (res,) = compute_metrics(*folders, ["csim"], backend="insightface")
    assert res.status == "unavailable" and res.name == "CSIM-arcface" and res.reason


def test_bad_input_is_a_one_line_error(folders, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TalkbenchError, match="no images"):
        compute_metrics(empty, folders[1], ["ssim"])
    (folders[1] / "9999_fake.png").write_bytes((folders[1] / "0000_fake.png").read_bytes())
    with pytest.raises(TalkbenchError, match="1 of 7 fake images have no real image"):
        compute_metrics(*folders, ["ssim"])
    with pytest.raises(TalkbenchError, match="use --pairs by-name"):
        compute_metrics(*folders, ["ssim"], pairs="none")
    with pytest.raises(TalkbenchError, match="unknown metric"):
        compute_metrics(*folders, ["nope"])


def test_pairing_by_name_ignores_role_suffix():
    real = ImageSet([], ["a_real.png", "b_real.png"])
    fake = ImageSet([], ["b_fake.png", "a.png"])
    assert make_pairs(real, fake, "by-name") == [(1, 0), (0, 1)]


def test_cli_writes_json_and_csv_and_prints_a_table(folders, tmp_path, capsys, empty_weights):
    out = tmp_path / "r.json"
    assert main(["metrics", "--real", str(folders[0]), "--fake", str(folders[1]), "--metrics", "ssim", "psnr",
                 "lpips", "--out", str(out)]) == 0
    rows = {r["name"]: r for r in json.loads(out.read_text())}
    assert rows["SSIM"]["status"] == "ok" and rows["LPIPS"]["status"] == "unavailable"
    printed = capsys.readouterr().out
    assert "SSIM" in printed and "unavailable" in printed
    csv = tmp_path / "r.csv"
    assert main(["metrics", "--real", str(folders[0]), "--fake", str(folders[1]), "--metrics", "l1",
                 "--out", str(csv)]) == 0
    assert csv.read_text().startswith("name,value,ci_low,ci_high,n,n_failed,status")
    assert main(["metrics", "--real", str(folders[0]), "--fake", str(folders[1]), "--metrics", "lpips",
                 "--strict"]) == 2
    assert "error" in capsys.readouterr().err


def test_a_registered_set_metric_with_its_own_features_is_fed(monkeypatch):
    """Adding a metric is a class and a registry entry: compute_metrics feeds a new
    FeatureDistanceMetric through its own embed(), with nothing else to edit."""
    from talkbench.metrics import api
    from talkbench.metrics.feature_metric import FeatureDistanceMetric

    class MeanColourGap(FeatureDistanceMetric):
        name = "MCG"
        higher_is_better = False

        def embed(self, images):
            return np.stack([im.reshape(-1, 3).mean(0) for im in images])

        def distance(self, real, fake):
            return self._result(float(np.abs(real.mean(0) - fake.mean(0)).sum()))

    monkeypatch.setitem(api.REGISTRY, "mcg", api.MetricSpec(MeanColourGap, lambda c: MeanColourGap(), lambda b: "MCG"))
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    fake = rng.integers(0, 200, (4, 16, 16, 3), dtype=np.uint8)
    (res,) = api.compute_metrics(real, fake, ["mcg"], pairs="none")
    expected = np.abs(real.reshape(5, -1, 3).mean(1).mean(0) - fake.reshape(4, -1, 3).mean(1).mean(0)).sum()
    assert res.status == "ok" and res.value == pytest.approx(expected) and res.n == 9


def test_unavailable_metrics_are_named_as_when_available(folders, empty_weights):
    """An unbuildable identity metric carries the embedding space it would have had; with
    ``auto`` and no backend it names none (never IFD-auto)."""
    names = {r.name for r in compute_metrics(*folders, ["ifd", "ikid", "csim"], backend="insightface")}
    assert names == {"IFD-arcface512", "IKID-arcface512", "CSIM-arcface"}
    assert {r.name for r in compute_metrics(*folders, ["lpips-vgg", "lpips"])} == {"LPIPS-vgg", "LPIPS"}


def test_table1_columns_are_registered_metrics():
    """Table 1's layout names metrics by their classes' names, so a renamed metric cannot
    silently drop out of it."""
    from talkbench.metrics.api import REGISTRY
    from talkbench.reports.tables import TABLE1_COLUMNS, metric_column

    names = {spec.cls.name for spec in REGISTRY.values()}
    assert set(TABLE1_COLUMNS) <= names
    assert [metric_column(spec.display_name("dlib")) for spec in REGISTRY.values()] == [
        "FID", "FID∞", "KID", None, None, None, "CSIM", "SSIM", "PSNR", None, "LPIPS", "LPIPS", "NME"]


@pytest.fixture
def people_folders(tmp_path, rng):
    """4 people × 4 frames, the person in each name; a fake is its real frame, shifted."""
    real, fake = tmp_path / "people_real", tmp_path / "people_fake"
    real.mkdir(), fake.mkdir()
    for p in range(4):
        base = rng.integers(0, 256, (1, 1, 3))
        for i in range(4):
            img = np.clip(base + rng.integers(-40, 40, (48, 48, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(real / f"id{p}_{i:02d}.png")
            Image.fromarray(np.clip(img.astype(int) + 30, 0, 255).astype(np.uint8)).save(fake / f"id{p}_{i:02d}.png")
    return real, fake


def test_cli_people_give_fid_a_jackknife_interval(people_folders, tmp_path, capsys):
    from talkbench.metrics.cli import people_of

    real, fake = people_folders
    out = tmp_path / "fid.json"
    assert main(["metrics", "--real", str(real), "--fake", str(fake), "--pairs", "none", "--metrics", "fid",
                 "--people", "^(id[0-9]+)_", "--out", str(out)]) == 0
    (row,) = json.loads(out.read_text())
    if row["status"] != "ok":
        pytest.skip(f"FID weights unavailable here: {row['reason']}")
    assert row["ci_low"] < row["value"] < row["ci_high"] and "jackknife over 4 people" in row["note"]
    assert main(["metrics", "--real", str(real), "--fake", str(fake), "--pairs", "none", "--metrics", "fid",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())[0]["ci_low"] is None  # no people given: no interval
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["metrics", "--real", str(real), "--fake", str(fake), "--metrics", "fid", "--people", "id"])
    assert exc.value.code == 2 and "needs a group that captures the person" in capsys.readouterr().err
    with pytest.raises(TalkbenchError, match="x.png does not match --people"):
        people_of([real / "id0_00.png", real / "x.png"], __import__("re").compile("^(id[0-9]+)_"), "real")
