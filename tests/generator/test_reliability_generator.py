"""Generator commands on hostile input (issue 12, items 2-4): numbers refused with their
range, damaged weights refused by their checksum, landmarks that cannot be a face refused,
no stale frames beside a new reenactment, truncated videos listed as skipped."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkbench.cli import main
from talkbench.data.dataset import FaceDataset
from talkbench.errors import TalkbenchError
from talkbench.generator.episodes import few_shot_cases
from talkbench.generator.fewshot import FewShotModel, build_fewshot
from talkbench.generator.model import build_model
from talkbench.generator.checkpoint import load_checkpoint, save_checkpoint
from tests.generator.conftest import tiny_model_config


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """An untrained tiny meta-model: enough to test files and inputs, in well under a second."""
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    save_checkpoint(path, build_model(tiny_model_config(), 6), None, None, 0, None, [])
    return path


@pytest.fixture(scope="module")
def person(checkpoint, tiny_faces, tmp_path_factory):
    case = few_shot_cases(FaceDataset(tiny_faces), shots=(2,), max_videos=1)[0]
    path = tmp_path_factory.mktemp("fs") / "person.pt"
    build_fewshot(checkpoint, case.shot_frames, case.shot_landmarks, "FF", device="cpu").save(path)
    return path, case


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and err.count("\n") == 0, err
    return err


@pytest.mark.parametrize("steps", ["0", "-5"])
def test_train_without_steps_is_refused(tiny_faces, tmp_path, capsys, steps):
    out = tmp_path / "run"
    assert main(["train", str(tiny_faces), str(out), f"steps={steps}", "--quiet"]) == 2
    assert "allowed: >= 1" in _one_line_error(capsys)
    assert not (out / "checkpoint.pt").exists()


def _corrupt(path, key: str) -> None:
    """Change one weight value, keeping the checksum the file was written with."""
    state = torch.load(path, weights_only=True)
    tensor = state[key] if isinstance(state[key], torch.Tensor) else next(
        v for v in state[key].values() if v.is_floating_point() and v.numel() > 4)
    delta = torch.zeros(tensor.numel(), dtype=tensor.dtype)
    delta[1] = 0.5
    tensor += delta.view(tensor.shape)  # in place, whatever the tensor's memory layout
    torch.save(state, path)


def test_corrupted_checkpoint_is_refused(checkpoint, tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(checkpoint.read_bytes())
    load_checkpoint(bad)
    _corrupt(bad, "G")
    with pytest.raises(TalkbenchError, match="checksum"):
        load_checkpoint(bad)
    assert main(["fewshot", str(bad), str(tmp_path / "p.pt"), "--frames", str(tmp_path)]) == 2
    assert "checksum" in _one_line_error(capsys)


def test_corrupted_fewshot_model_is_refused(person, tmp_path):
    path, case = person
    bad = tmp_path / "bad.pt"
    bad.write_bytes(path.read_bytes())
    FewShotModel.load(bad)
    _corrupt(bad, "psi")
    with pytest.raises(TalkbenchError, match="checksum"):
        FewShotModel.load(bad)


def test_fewshot_steps_must_be_positive_and_ft(checkpoint, tiny_faces, tmp_path, capsys):
    out = tmp_path / "ft.pt"
    with pytest.raises(SystemExit) as exc:
        main(["fewshot", str(checkpoint), str(out), "--frames", str(tiny_faces), "--mode", "FT", "--steps", "-4"])
    assert exc.value.code == 2 and "allowed: >= 1" in capsys.readouterr().err
    assert main(["fewshot", str(checkpoint), str(out), "--frames", str(tiny_faces), "--steps", "3"]) == 2
    assert "--mode FT" in _one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize("bad", ["nan", "huge", "object", "empty"])
def test_reenact_refuses_impossible_landmarks(person, tmp_path, capsys, bad):
    path, case = person
    marks = case.heldout_landmarks[:3].astype(np.float32).copy()
    npy = tmp_path / "drive.npy"
    if bad == "nan":
        marks[1, 5] = np.nan
        np.save(npy, marks)
    elif bad == "huge":
        marks[2] = 1e30
        np.save(npy, marks)
    elif bad == "object":
        np.save(npy, np.array([marks, "x"], dtype=object), allow_pickle=True)
    else:
        np.save(npy, np.zeros((0, 68, 2), np.float32))
    out = tmp_path / "out"
    assert main(["reenact", str(path), str(out), "--driver", str(npy), "--quiet"]) == 2
    _one_line_error(capsys)
    assert not (out / "frames").exists()


def test_reenact_leaves_no_stale_frames(person, tmp_path):
    path, case = person
    npy = tmp_path / "drive.npy"
    out = tmp_path / "out"
    for n in (5, 2):
        np.save(npy, case.heldout_landmarks[:n])
        assert main(["reenact", str(path), str(out), "--driver", str(npy), "--quiet"]) == 0
    assert sorted(p.name for p in (out / "frames").glob("*.png")) == ["0000.png", "0001.png"]


def _faststart_copy(src, dst) -> int:
    """Remux ``src`` with its index (moov) first, as streaming encoders write: cut short, such
    a file still opens and announces all its frames. Returns that frame count."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    with av.open(str(dst)) as c:
        return c.streams.video[0].frames


def test_truncated_video_is_skipped_not_kept(shared_videos, tmp_path):
    from talkbench.data.clips import Skip, read_clip

    whole = tmp_path / "whole.mp4"
    total = _faststart_copy(sorted(shared_videos.glob("*.mp4"))[0], whole)
    assert total >= 48 and len(read_clip(whole, 48)) == 48
    data = whole.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:int(len(data) * 0.4)])
    with pytest.raises(Skip, match=r"truncated video: \d+ of 48 sampled frames decodable"):
        read_clip(cut, 48)


@pytest.mark.parametrize("option", [["--frames", "0"], ["--size", "-5"], ["--workers", "0"]])
def test_prepare_numbers_refused_before_work(tmp_path, capsys, option):
    src = tmp_path / "src"
    src.mkdir()
    try:
        code = main(["prepare", str(src), str(tmp_path / "out"), *option])
    except SystemExit as exc:  # argparse's usage error for --workers
        code = exc.code
    assert code == 2 and "allowed" in capsys.readouterr().err
    assert not (tmp_path / "out" / "skipped.csv").exists()
