"""Honest small-sample statistics: FID∞ removes most of FID's 1/n bias, FID/IFD at a common
n per set, KID with a spread that is not trivially 0, n beside every set metric, and the
`metrics` command's JSON without NaN."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from talkbench.cli import main
from talkbench.metrics.fid import FID, KID, FIDInfinity
from talkbench.metrics.frechet import frechet_distance_features, frechet_infinity
from talkbench.reports.tables import Cell


GIVEN = SimpleNamespace(weights_source="features given", weights_id="-")  # no network: features passed in


def gaussians(rng, n, d=64):
    """Two Gaussian feature sets whose true Fréchet distance is known in closed form."""
    x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d)) * 1.3 + 0.25
    return x, y, d * 0.25 ** 2 + d * (1 + 1.3 ** 2 - 2 * 1.3)


def test_fid_infinity_removes_most_of_the_small_sample_bias(rng):
    x, y, true = gaussians(rng, 160)
    biased = frechet_distance_features(x, y)
    value, se, sizes = frechet_infinity(x, y)
    assert sizes[0] == 40 and sizes[-1] == 160 and len(sizes) == 8
    assert biased - true > 10  # FID at n = 160 in 64 dimensions: strongly biased upwards
    assert abs(value - true) < 0.3 * (biased - true) and se > 0
    with pytest.raises(ValueError, match="at least 8 samples"):
        frechet_infinity(x[:7], y[:7])


def test_set_metrics_at_a_common_n_say_their_n(rng):
    x, y, _ = gaussians(rng, 100)
    fid = FID(extractor=GIVEN, common_n=30)
    fid.update_features(x, real=True)
    fid.update_features(y[:60], real=False)
    r = fid.compute()
    assert (r.n_real, r.n_fake) == (30, 30) and "at n = 30 per set" in r.note
    sub = np.random.default_rng(0)
    xi, yi = np.sort(sub.choice(100, 30, replace=False)), np.sort(sub.choice(60, 30, replace=False))
    assert r.value == pytest.approx(frechet_distance_features(x[xi], y[:60][yi]))
    short = FID(extractor=GIVEN, common_n=80)
    short.update_features(x, real=True)
    short.update_features(y[:60], real=False)
    assert short.compute().n_fake == 60 and "fewer usable samples than the common n = 80" in short.compute().note

    inf = FIDInfinity(extractor=GIVEN)
    inf.update_features(x, real=True)
    inf.update_features(y, real=False)
    r = inf.compute()
    assert r.name == "FID∞" and (r.n_real, r.n_fake) == (100, 100) and r.std > 0 and "Chong & Forsyth" in r.note


def test_kid_on_small_sets_has_a_real_spread(rng):
    x, y, _ = gaussians(rng, 40)
    kid = KID(extractor=GIVEN)
    kid.update_features(x, real=True)
    kid.update_features(y, real=False)
    r = kid.compute()
    assert r.std > 0 and "subsets of 20" in r.note  # whole-set subsets would all be one draw


def test_table_cells_show_spread_and_n():
    assert Cell(12.345, status="ok", std=1.5, n_set=80).text() == "12.35 ± 1.50 (n=80)"
    assert Cell(12.345, 10.0, 14.0, status="ok", n_set=80).text() == "12.35 [10.00, 14.00] (n=80)"
    assert Cell(0.5, 0.4, 0.6, status="ok").text() == "0.500 [0.400, 0.600]"


def test_metrics_json_has_null_not_nan(tmp_path, rng, empty_weights, capsys):
    for sub in ("real", "fake"):
        (tmp_path / sub).mkdir()
        for i in range(3):
            from PIL import Image

            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(tmp_path / sub / f"{i}.png")
    out = tmp_path / "m.json"
    assert main(["metrics", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
                 "--metrics", "fid", "ssim", "--out", str(out)]) == 0

    def no_nan(token):
        raise AssertionError(f"{token} is not JSON")

    rows = {r["name"]: r for r in json.loads(out.read_text(), parse_constant=no_nan)}
    assert rows["FID"]["status"] == "unavailable" and rows["FID"]["value"] is None
    assert rows["SSIM"]["std"] is None and isinstance(rows["SSIM"]["value"], float)


def test_small_set_warning_is_given_once_and_every_result_keeps_its_note(rng, monkeypatch):
    """A suite computes FID for every setting, each with a jackknife whose ``catch_warnings``
    resets Python's once-only registry: the warning came back 18 times in one run's log."""
    from talkbench.metrics import fid as fid_module

    monkeypatch.setattr(fid_module, "_WARNED_DIMS", set())
    x, y, _ = gaussians(rng, 40)
    groups = np.repeat(np.arange(4), 10)
    with pytest.warns(UserWarning, match="rank-deficient") as caught:
        notes = []
        for _ in range(3):
            fid = FID(extractor=GIVEN)
            fid.update_features(x, real=True, groups=groups)
            fid.update_features(y, real=False, groups=groups)
            notes.append(fid.compute().note)
    assert len([w for w in caught if "rank-deficient" in str(w.message)]) == 1
    assert all("rank-deficient" in n for n in notes)
