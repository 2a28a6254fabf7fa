"""Provenance that survives: C2PA manifests (signed, validated, tamper-evident), the pixel
watermark at the sizes and transformations it claims, and `talkbench provenance`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from talkbench import credentials
from talkbench import watermark as wm
from talkbench.cli import main
from talkbench.errors import TalkbenchError
from talkbench.media import read_image, read_png_provenance, read_video_provenance, write_png, write_video
from talkbench.provenance import provenance


@pytest.fixture(autouse=True)
def identity(tmp_path_factory, monkeypatch) -> Path:
    """One self-signed identity for this module's tests, never the user's own folder."""
    folder = tmp_path_factory.getbasetemp() / "c2pa-identity"
    monkeypatch.setenv("TALKBENCH_C2PA_DIR", str(folder))
    for var in ("TALKBENCH_C2PA_CERT", "TALKBENCH_C2PA_KEY", "TALKBENCH_C2PA_TRUST"):
        monkeypatch.delenv(var, raising=False)
    return folder


@pytest.fixture(scope="module")
def faces() -> list[np.ndarray]:
    """Square face crops of the shared photos and video frames (real content: flat synthetic
    images would flatter the watermark)."""
    from tests.conftest import shared_path

    from talkbench.benchmarks.watermark_survival import face_crops

    return face_crops(shared_path("data", "videos"), per_video=2)


def _meta(**extra) -> dict[str, str]:
    return provenance(generator="fewshot-ft", config_fingerprint="0123456789abcdef", mode="FT", T=8, **extra)


def _textured(rng, size: int) -> np.ndarray:
    """A natural-ish image: smooth colour gradients plus fine texture, no saturation."""
    y, x = np.mgrid[0:size, 0:size] / size
    base = np.stack([0.5 + 0.3 * np.sin(6 * x + c) * np.cos(4 * y - c) for c in (0, 1, 2)], axis=-1)
    return np.clip(base * 255 + rng.normal(0, 12, (size, size, 3)), 0, 255).astype(np.uint8)


def _cli(*args: str, capsys) -> tuple[int, str]:
    code = main(["provenance", *args])
    return code, capsys.readouterr().out


def test_png_manifest_signs_and_reads_back_the_same_fields(tmp_path, rng):
    meta = _meta(adversarial="true", target_detector="xception")
    write_png(tmp_path / "a.png", _textured(rng, 64), meta)
    cred = credentials.read(tmp_path / "a.png")
    assert cred.state == "Valid" and cred.failures == ["signingCredential.untrusted"]  # self-signed: not trusted
    assert cred.digital_source_type == credentials.TRAINED_ALGORITHMIC_MEDIA
    assert {k: v for k, v in cred.meta.items() if k != "watermark"} == meta
    assert cred.meta["watermark"].startswith(wm.METHOD)
    assert read_png_provenance(tmp_path / "a.png") == meta  # the old text chunks are kept as they were


def test_mp4_manifest_and_container_fields(tmp_path, rng):
    meta = _meta()
    write_video(tmp_path / "a.mp4", [_textured(rng, 128) for _ in range(4)], meta=meta)
    cred = credentials.read(tmp_path / "a.mp4")
    assert cred.valid and {k: v for k, v in cred.meta.items() if k != "watermark"} == meta
    assert read_video_provenance(tmp_path / "a.mp4") == meta


def test_real_frames_get_no_manifest_and_no_mark(tmp_path, rng):
    img = _textured(rng, 64)
    write_png(tmp_path / "real.png", img, {"role": "ground truth"})
    assert credentials.read(tmp_path / "real.png").state == "absent"
    np.testing.assert_array_equal(read_image(tmp_path / "real.png"), img)


def test_one_flipped_byte_invalidates_the_manifest(tmp_path, rng, capsys):
    write_png(tmp_path / "a.png", _textured(rng, 64), _meta())
    data = bytearray((tmp_path / "a.png").read_bytes())
    data[data.find(b"IDAT") + 12] ^= 0x01
    (tmp_path / "t.png").write_bytes(bytes(data))
    cred = credentials.read(tmp_path / "t.png")
    assert cred.state == "Invalid" and not cred.valid and "assertion.dataHash.mismatch" in cred.failures
    code, out = _cli(str(tmp_path / "t.png"), capsys=capsys)
    assert code == 1 and "INVALID" in out and "conflicting evidence" in out


def test_edited_text_chunk_is_caught(tmp_path, rng, capsys):
    """Re-saving the pixels with a forged field drops the manifest: what remains (chunks,
    watermark) still says synthetic, and no valid manifest vouches for the forgery."""
    write_png(tmp_path / "a.png", _textured(rng, 64), _meta())
    forged = {**_meta(), "generator": "a camera", "synthetic": "false"}
    write_png(tmp_path / "f.png", read_image(tmp_path / "a.png"), forged)
    code, out = _cli(str(tmp_path / "f.png"), capsys=capsys)
    assert code == 1 and "disagrees" in out  # the mark says generated, the chunks say not


def test_lab_certificate_and_trust_anchor(tmp_path, rng, identity, monkeypatch):
    write_png(tmp_path / "a.png", _textured(rng, 64), _meta())  # creates the identity
    monkeypatch.setenv("TALKBENCH_C2PA_CERT", str(identity / "signer.pem"))
    monkeypatch.setenv("TALKBENCH_C2PA_KEY", str(identity / "signer.key"))
    write_png(tmp_path / "b.png", _textured(rng, 64), _meta())
    assert credentials.read(tmp_path / "b.png").state == "Valid"
    monkeypatch.setenv("TALKBENCH_C2PA_TRUST", str(identity / "ca.pem"))
    assert credentials.read(tmp_path / "b.png").state == "Trusted"
    monkeypatch.delenv("TALKBENCH_C2PA_KEY")
    with pytest.raises(TalkbenchError, match="TALKBENCH_C2PA_KEY"):
        write_png(tmp_path / "c.png", _textured(rng, 64), _meta())


def test_experiment_frames_keep_exact_pixels(tmp_path, rng):
    """watermark=False (the benchmark's generated frames, which detectors and metrics read):
    the pixels on disk are exactly the generator's, the manifest says no mark was made."""
    img = _textured(rng, 128)
    write_png(tmp_path / "e.png", img, _meta(), watermark=False)
    np.testing.assert_array_equal(read_image(tmp_path / "e.png"), img)
    assert not wm.detect(img).found
    assert credentials.read(tmp_path / "e.png").meta["watermark"].startswith("none (experiment data")


def test_too_small_images_are_not_marked_and_say_so(tmp_path, rng):
    img = _textured(rng, 48)
    write_png(tmp_path / "s.png", img, _meta())
    np.testing.assert_array_equal(read_image(tmp_path / "s.png"), img)
    assert "too small" in credentials.read(tmp_path / "s.png").meta["watermark"]


@pytest.mark.parametrize("size", sorted(wm.CLAIMS))
def test_watermark_survives_a_metadata_strip(tmp_path, rng, size, capsys):
    write_png(tmp_path / "a.png", _textured(rng, size), _meta())
    buf = io.BytesIO()
    Image.fromarray(read_image(tmp_path / "a.png")).save(buf, format="PNG")
    (tmp_path / "stripped.png").write_bytes(buf.getvalue())
    assert credentials.read(tmp_path / "stripped.png").state == "absent"
    assert read_png_provenance(tmp_path / "stripped.png") == {}
    assert "metadata-strip" in wm.CLAIMS[size]
    code, out = _cli(str(tmp_path / "stripped.png"), capsys=capsys)
    assert code == 0 and "talkbench output (synthetic)" in out and "watermark: found" in out


@pytest.mark.slow  # ~40 s on the loaded 2-core machine: 20 real crops × 3 sizes
def test_jpeg75_survival_matches_the_claim(tmp_path, faces):
    """At every size claimed for JPEG q75, ≥ 95 % of real face crops keep a readable mark;
    the same crops unmarked never read as marked."""
    meta = _meta()
    for size, claims in wm.CLAIMS.items():
        found = false = 0
        for i, face in enumerate(faces):
            img = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
            write_png(tmp_path / f"{size}_{i}.png", img, meta)
            for src, counter in ((read_image(tmp_path / f"{size}_{i}.png"), "found"), (img, "false")):
                buf = io.BytesIO()
                Image.fromarray(src).save(buf, format="JPEG", quality=75)
                hit = wm.detect(np.asarray(Image.open(buf).convert("RGB"))).found
                found, false = (found + hit, false) if counter == "found" else (found, false + hit)
        assert ("jpeg75" in claims) == (found / len(faces) >= 0.95), (size, found, len(faces))
        assert false == 0, (size, false)


def test_non_talkbench_image_has_no_evidence(tmp_path, rng, capsys):
    Image.fromarray(_textured(rng, 128)).save(tmp_path / "photo.jpg", quality=90)
    code, out = _cli(str(tmp_path / "photo.jpg"), "--json", capsys=capsys)
    (finding,) = json.loads(out)
    assert code == 1 and finding["verdict"] == "no evidence" and not finding["agrees"]
    assert finding["c2pa"]["state"] == "absent" and finding["metadata"] == {} and not finding["watermark"]["found"]


def test_all_evidence_agrees_on_a_talkbench_file(tmp_path, rng, capsys):
    write_png(tmp_path / "a.png", _textured(rng, 128), _meta())
    write_png(tmp_path / "real.png", _textured(rng, 64), {"role": "ground truth"})
    code, out = _cli(str(tmp_path / "a.png"), str(tmp_path / "real.png"), capsys=capsys)
    assert code == 0, out
    assert "talkbench output (synthetic) — generator=fewshot-ft" in out and "watermark: found" in out
    assert "valid signature" in out and "not trusted" in out  # never claims a trust it does not have
    assert "talkbench real frame" in out


def test_benchmark_fakes_are_signed_but_unmarked(tmp_path, rng):
    """The generate stage's fakes (what detectors and metrics read) keep the generator's exact
    pixels and a valid manifest; the real frames beside them get neither manifest nor mark."""
    from types import SimpleNamespace

    from talkbench.benchmarks.stages.generate import write_case

    frames = np.stack([_textured(rng, 64) for _ in range(2)])
    marks = np.zeros((2, 68, 2), np.float32)
    case = SimpleNamespace(identity="p0", video="v0", T=1, shot_frames=frames[:1], heldout_frames=frames,
                           heldout_landmarks=marks, heldout_index=np.arange(2), cross_landmarks=marks,
                           cross_identity="p1", cross_index=np.arange(2))
    model = SimpleNamespace(generator_name="stub", config_fingerprint="0" * 16, adversarial_fields={},
                            generate=lambda lm: frames[::-1])
    rows = write_case(tmp_path, "FF_T1", "FF", case, model, None)
    fake, real = tmp_path / rows[0][7], tmp_path / rows[0][8]
    np.testing.assert_array_equal(read_image(fake), frames[1])
    cred = credentials.read(fake)
    assert cred.valid and cred.meta["watermark"].startswith("none (experiment data")
    assert credentials.read(real).state == "absent" and not wm.detect(read_image(real)).found
