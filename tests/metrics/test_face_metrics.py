"""CSIM, identity FD and landmark error with dlib on the real photos."""

import numpy as np
import pytest
from PIL import Image

from talkbench.faces import create_backend
from talkbench.faces.base import nme
from talkbench.media import list_images, read_image
from talkbench.metrics.csim import CSIM
from talkbench.metrics.identity_fd import IdentityFD
from talkbench.metrics.landmarks import LandmarkError


@pytest.fixture(scope="module")
def dlib_backend():
    return create_backend("dlib", capability="embed")


@pytest.fixture(scope="module")
def portraits():
    """Single-person photos, downscaled to ≤ 400 px so dlib is quick."""
    from tests.conftest import shared_path

    out = []
    for p in list_images(shared_path("data", "images")):
        if "group" in p.name:
            continue
        im = Image.fromarray(read_image(p))
        im.thumbnail((400, 400))
        out.append(np.asarray(im))
    return out


def shifted(img, dx=6, scale=1.05):
    h, w = img.shape[:2]
    big = np.asarray(Image.fromarray(img).resize((int(w * scale), int(h * scale)), Image.BILINEAR))
    big = np.roll(big, dx, axis=1)
    return np.ascontiguousarray(big[:h, :w])


def test_csim_same_person_beats_different_people(portraits, dlib_backend):
    same = CSIM(dlib_backend)
    same.update([shifted(p) for p in portraits], portraits)
    diff = CSIM(dlib_backend)
    diff.update([shifted(p) for p in portraits], portraits[1:] + portraits[:1])
    s, d = same.compute(), diff.compute()
    assert s.name == "CSIM-dlib" and s.n == len(portraits) and s.n_failed == 0
    assert min(same.values) > max(diff.values)
    assert s.value > 0.9 and d.value < s.value


def test_csim_counts_frames_without_faces(portraits, dlib_backend):
    blank = np.full_like(portraits[0], 128)
    metric = CSIM(dlib_backend)
    metric.update([portraits[0], blank, None], [portraits[0]] * 3)
    res = metric.compute()
    assert res.n == 1 and res.n_failed == 2 and res.value == pytest.approx(1.0, abs=1e-5)
    unpaired = CSIM(dlib_backend, paired=False)
    unpaired.update([shifted(portraits[0]), blank], [portraits[0]])
    res = unpaired.compute()
    assert res.n == 1 and res.n_failed == 1 and res.value > 0.9


def test_identity_fd_is_named_apart_from_fid(portraits, dlib_backend):
    metric = IdentityFD(dlib_backend)
    metric.update([shifted(p) for p in portraits], portraits)
    res = metric.compute()
    assert res.name == "IFD-dlib128" and res.value >= 0 and res.n == 2 * len(portraits)


def test_nme_is_zero_on_itself_and_grows_with_perturbation(portraits):
    metric = LandmarkError("dlib")
    errors = []
    for scale in (1.0, 1.03, 1.08):
        metric.reset()
        metric.update([shifted(p, dx=int(40 * (scale - 1)), scale=scale) for p in portraits], portraits)
        errors.append(metric.compute().value)
    assert errors[0] < 1e-6
    assert errors[0] < errors[1] < errors[2]
    results = {r.name.split("-")[0]: r for r in metric.compute_all()}
    assert results["AKD"].value > 0 and results["FaceMissRate"].value == 0


def test_nme_formula_and_failure_rate(portraits):
    target = np.zeros((1, 68, 2))
    target[0, 36], target[0, 45] = (0, 0), (10, 0)
    pred = target + np.array([3.0, 4.0])  # every point 5 px off
    assert nme(pred, target)[0] == pytest.approx(0.5)
    metric = LandmarkError("dlib")
    blank = np.full_like(portraits[0], 128)
    metric.update([portraits[0], blank], [portraits[0], portraits[0]])
    nme_r, akd_r, miss = metric.compute_all()
    assert nme_r.n == 1 and nme_r.n_failed == 1
    assert miss.value == pytest.approx(0.5) and miss.n_failed == 1


def test_a_metric_keeps_its_name_whether_or_not_it_could_be_built(dlib_backend):
    """The registry's name for an unbuildable metric is the built metric's name (one rule,
    on the class): a run without dlib's weights writes IFD-dlib128, not IFD-dlib."""
    from talkbench.metrics.api import REGISTRY

    built = {"ifd": IdentityFD(dlib_backend), "csim": CSIM(dlib_backend),
             "landmarks": LandmarkError(create_backend("dlib", capability="landmarks"))}
    for key, metric in built.items():
        assert REGISTRY[key].display_name("dlib") == metric.display_name == metric.compute().name
    assert [REGISTRY[k].display_name("dlib") for k in built] == ["IFD-dlib128", "CSIM-dlib", "NME-dlib"]
