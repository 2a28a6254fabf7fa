"""`talkbench attack pgd` and `talkbench attack fewshot` with a user's detector checkpoint."""

from __future__ import annotations

import numpy as np
import pandas as pd

from talkbench.cli import main
from talkbench.detector.registry import create_detector
from talkbench.generator.fewshot import FewShotModel
from talkbench.media import read_image, read_png_provenance, write_png


def test_attack_pgd_writes_bounded_images_with_provenance(tmp_path, capsys):
    det = create_detector("test_resnet_64")
    ckpt = det.save(tmp_path / "det.pt")
    rng = np.random.default_rng(0)
    for i in range(3):
        write_png(tmp_path / "fakes" / f"{i}.png", rng.integers(0, 256, (48, 48, 3), dtype=np.uint8))
    assert main(["attack", "pgd", str(tmp_path / "fakes"), str(tmp_path / "adv"), "--detector", str(ckpt),
                 "--eps", "2", "--steps", "3", "--device", "cpu", "--quiet"]) == 0
    assert "test_resnet_64: mean P(fake)" in capsys.readouterr().out
    for i in range(3):
        src, adv = read_image(tmp_path / "fakes" / f"{i}.png"), read_image(tmp_path / "adv" / f"{i}.png")
        assert np.abs(adv.astype(int) - src.astype(int)).max() == 2
        meta = read_png_provenance(tmp_path / "adv" / f"{i}.png")
        assert meta["synthetic"] == "true" and meta["adversarial"] == "pgd" and meta["eps"] == "2/255"
        assert "test_resnet_64" in meta["target_detectors"]
    table = pd.read_csv(tmp_path / "adv" / "attack.csv")
    assert len(table) == 3
    assert (table["p_fake_after[test_resnet_64]"] < table["p_fake_before[test_resnet_64]"]).all()


def test_attack_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    ckpt = create_detector("test_resnet_64").save(tmp_path / "det.pt")
    assert main(["attack", "pgd", str(tmp_path / "empty"), str(tmp_path / "o"), "--detector", str(ckpt)]) == 2
    assert main(["attack", "pgd", str(tmp_path / "empty"), str(tmp_path / "o"), "--detector",
                 str(tmp_path / "missing.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("talkbench attack: error:") for line in err)


def test_attack_fewshot_records_the_adversarial_nature(checkpoint, tiny_faces, tmp_path):
    ckpt = create_detector("test_resnet_64").save(tmp_path / "det.pt")
    out = tmp_path / "evasive.pt"
    assert main(["attack", "fewshot", str(checkpoint), str(out), "--frames", str(tiny_faces), "--shots", "2",
                 "--steps", "2", "--weight", "0.5", "--detector", str(ckpt), "--device", "cpu", "--quiet"]) == 0
    model = FewShotModel.load(out)
    assert model.mode == "FT" and "adversarial: evasion λ=0.5 against test_resnet_64" in model.generator_name
    assert model.info["target_detectors"] == [str(ckpt)]
