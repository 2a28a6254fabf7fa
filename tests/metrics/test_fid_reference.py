"""Our FID/KID pipeline vs pytorch-fid's own ``calculate_fid_given_paths`` on the same
folders, with the same randomly initialised Inception injected into both (the real FID
weights are not available offline)."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from talkbench.media import list_images, read_image
from talkbench.metrics.api import compute_metrics
from talkbench.metrics.inception import InceptionFeatures, random_fid_state_dict
from talkbench.metrics.inputs import ImageSet

N = 6  # per set: each image is a full 299×299 Inception forward, slow on a shared CPU


def crops(shared_images, rng, n, size=96):
    photos = [read_image(p) for p in list_images(shared_images)]
    out = []
    for k in range(n):
        im = photos[k % len(photos)]
        s = min(im.shape[:2]) // 2
        y, x = rng.integers(0, im.shape[0] - s), rng.integers(0, im.shape[1] - s)
        out.append(np.asarray(Image.fromarray(im[y:y + s, x:x + s]).resize((size, size), Image.BILINEAR)))
    return out


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from tests.conftest import shared_path

    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("fid")
    real = crops(shared_path("data", "images"), rng, N)
    other = crops(shared_path("data", "images"), rng, N)  # different crops of the same photos
    blurred = [np.asarray(Image.fromarray(c).filter(ImageFilter.GaussianBlur(3))) for c in real]
    for sub, images in (("real", real), ("fake", blurred), ("other", other)):
        (root / sub).mkdir()
        for i, im in enumerate(images):
            Image.fromarray(im).save(root / sub / f"{i:03d}.png")
    return root / "real", root / "fake", root / "other"


@pytest.mark.slow
def test_fid_matches_pytorch_fid_with_injected_random_inception(folders, tmp_path, monkeypatch):
    torch.set_num_threads(2)
    from pytorch_fid import fid_score
    from pytorch_fid import inception as pfi

    state = random_fid_state_dict(seed=0)
    extractor = InceptionFeatures(state, cache_dir=tmp_path / "cache", num_workers=0)
    real_feats, _ = extractor.features(ImageSet.from_any(folders[0]))
    fake_feats, _ = extractor.features(ImageSet.from_any(folders[1]))
    # First: the random features are not degenerate and separate the two sets.
    assert real_feats.std() > 1e-2
    results = {r.name: r for r in compute_metrics(folders[0], folders[1], ["fid", "kid"], pairs="none",
                                                  inception=extractor)}
    ours = results["FID"].value
    baseline = compute_metrics(folders[0], folders[2], ["fid"], pairs="none", inception=extractor)[0].value
    assert ours > 1.0 and ours > 2 * baseline, \
        f"random Inception features must separate real from blurred (FID {ours}) more than real from real ({baseline})"
    assert results["KID"].value > 0 and results["KID"].std is not None

    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: state)
    ref = fid_score.calculate_fid_given_paths([str(folders[0]), str(folders[1])], batch_size=N, device="cpu",
                                              dims=2048, num_workers=0)
    print(f"FID ours {ours:.6f} pytorch-fid {ref:.6f} real-vs-other-real {baseline:.4f}")
    assert ours == pytest.approx(ref, abs=1e-3)
    same = compute_metrics(folders[0], folders[0], ["fid"], pairs="none", inception=extractor)[0].value
    assert abs(same) < 1e-3  # identical sets (both read from the feature cache)


def test_feature_cache_is_keyed_by_content(folders, tmp_path):
    torch.set_num_threads(2)
    state = random_fid_state_dict(seed=1)
    extractor = InceptionFeatures(state, cache_dir=tmp_path, num_workers=0)
    two = ImageSet.from_any(sorted(folders[0].iterdir())[:2])
    feats, failed = extractor.features(two)
    assert feats.shape == (2, 2048) and failed == 0
    cached = list(tmp_path.glob("*.npz"))
    assert len(cached) == 1
    # The same content elsewhere hits the cache (no forward pass: the model is broken on purpose).
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in two.items:
        (copy / p.name).write_bytes(p.read_bytes())
    extractor.model = None
    again, _ = extractor.features(ImageSet.from_any(copy))
    np.testing.assert_array_equal(again, feats)


def test_folded_network_equals_pytorch_fid_module():
    """Our FID network, with BN and the 2x − 1 input map folded into the convolutions, gives
    pytorch-fid's own module's features on [0, 1] input; weights that do not fit it are refused."""
    from talkbench.metrics.fid_network import build_fid_inception
    from talkbench.metrics.inception import pytorch_fid_inception

    state = random_fid_state_dict(seed=2)
    x = torch.rand(2, 3, 299, 299, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = pytorch_fid_inception(state, resize_input=False)(x)[0].flatten(1)
    ours = InceptionFeatures(state, cache_dir=False, num_workers=0).forward(x)
    assert ref.abs().max() > 1e-2
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max()))
    short = {k: v for k, v in state.items() if not k.startswith("Mixed_7c.branch_pool.")}
    with pytest.raises(RuntimeError, match="Missing key"):
        build_fid_inception(short)
    wrong = dict(state, **{"Mixed_5b.branch1x1.conv.weight": torch.zeros(64, 192, 3, 3)})
    with pytest.raises(RuntimeError, match="size mismatch"):
        build_fid_inception(wrong)
