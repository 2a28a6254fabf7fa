"""A 3D face: the 68 iBUG landmarks of a mean face (our own approximate anthropometric
coordinates, in millimetres) plus a few auxiliary points the renderer needs (forehead and
skull outline, iris centres, ears, neck), per-identity shape variation, expression
(mouth opening, smile, blink, brow raise), head pose, and perspective projection.

Axes: x to the image's right (the subject's left), y down, z towards the camera; the origin
sits between the outer eye corners.
"""

from __future__ import annotations

import dataclasses

import numpy as np

N_LANDMARKS = 68


def _mirror(p: np.ndarray) -> np.ndarray:
    return p * np.array([-1.0, 1.0, 1.0])


def _mean_landmarks() -> np.ndarray:
    """The 68 landmarks of the mean face (iBUG 300-W order), millimetres."""
    pts = np.zeros((68, 3))
    # Jaw 0-16: a squared-off half ellipse from the right ear (image left) round the chin.
    a = np.linspace(0.0, np.pi, 17)
    c, s = np.cos(a), np.sin(a)
    pts[:17, 0] = -68.0 * np.sign(c) * np.abs(c) ** 0.8
    pts[:17, 1] = 6.0 + 112.0 * np.abs(s) ** 1.15
    pts[:17, 2] = -62.0 * np.abs(c) ** 1.3 - 4.0
    # Right brow 17-21 (outer → inner); left brow 22-26 mirrors it (inner → outer).
    brow = np.array([[-60, -18, -26], [-50, -26, -13], [-38, -29, -5], [-26, -28, 0], [-14, -24, 2]], float)
    pts[17:22] = brow
    pts[22:27] = _mirror(brow[::-1])
    # Nose: bridge 27-30 (nasion → tip), base 31-35 (right → left nostril).
    pts[27:31] = np.array([[0, -11, 8], [0, 3, 16], [0, 17, 26], [0, 31, 36]], float)
    pts[31:36] = np.array([[-15, 40, 12], [-8, 43, 18], [0, 45, 21], [8, 43, 18], [15, 40, 12]], float)
    # Right eye 36-41: outer corner, upper lid ×2, inner corner, lower lid ×2.
    eye = np.array([[-47, 1, -13], [-39, -5.5, -4], [-26, -6, -2], [-17, 0.5, -5], [-26, 4.5, -3], [-39, 4.5, -5]], float)
    pts[36:42] = eye
    pts[42:48] = _mirror(eye[[3, 2, 1, 0, 5, 4]])
    # Outer lips 48-59: right corner, upper lip to the left corner, lower lip back.
    pts[48:55] = np.array([[-25, 65, 4], [-15, 60, 12], [-6, 57.5, 16], [0, 58.5, 17], [6, 57.5, 16], [15, 60, 12], [25, 65, 4]], float)
    pts[55:60] = np.array([[15, 73, 11], [6, 76.5, 14], [0, 77, 15], [-6, 76.5, 14], [-15, 73, 11]], float)
    # Inner lips 60-67: right corner, upper inner lip, left corner, lower inner lip.
    pts[60:65] = np.array([[-21, 65, 5], [-8, 64, 12], [0, 64.3, 13], [8, 64, 12], [21, 65, 5]], float)
    pts[65:68] = np.array([[8, 65, 12], [0, 65.3, 13], [-8, 65, 12]], float)
    return pts


def _aux_points() -> dict[str, np.ndarray]:
    """Non-landmark points the renderer draws from, posed together with the landmarks."""
    # Forehead / hairline arc from above the right jaw top over to the left one.
    a = np.linspace(0.0, np.pi, 11)
    forehead = np.stack([-68 * np.cos(a), 6 - 84 * np.sin(a) ** 0.9, -62 * np.abs(np.cos(a)) ** 1.3 - 10], 1)
    # Skull silhouette (for hair): wider and taller than the face, from ear to ear over the top.
    b = np.linspace(-0.15 * np.pi, 1.15 * np.pi, 15)
    skull = np.stack([-80 * np.cos(b), 10 - 112 * np.sin(b), -60 + 0 * b], 1)
    return {
        "forehead": forehead,
        "skull": skull,
        "iris": np.array([[-32.0, -0.5, 1.0], [32.0, -0.5, 1.0]]),
        "ears": np.array([[-72.0, 22.0, -72.0], [72.0, 22.0, -72.0]]),
        "neck": np.array([[-34.0, 80.0, -60.0], [34.0, 80.0, -60.0], [-38.0, 190.0, -60.0], [38.0, 190.0, -60.0]]),
        "shoulders": np.array([[-120.0, 160.0, -70.0], [120.0, 160.0, -70.0], [-175.0, 260.0, -70.0], [175.0, 260.0, -70.0]]),
    }


MEAN_LANDMARKS = _mean_landmarks()
AUX = _aux_points()
AUX_SLICES: dict[str, slice] = {}
_start = N_LANDMARKS
for _k, _v in AUX.items():
    AUX_SLICES[_k] = slice(_start, _start + len(_v))
    _start += len(_v)
MEAN_POINTS = np.concatenate([MEAN_LANDMARKS, *AUX.values()])  # (P, 3)
HEAD_CENTRE = np.array([0.0, 30.0, -70.0])  # rotation pivot, roughly the middle of the head

# Index groups used by expressions.
_UPPER_LIDS = np.array([37, 38, 43, 44])
_LOWER_LIDS = np.array([41, 40, 47, 46])
_LOWER_LIP = np.array([55, 56, 57, 58, 59, 65, 66, 67])
_MOUTH = np.arange(48, 68)
_CORNERS = np.array([48, 54, 60, 64])
_JAW_DROP = np.array([0, 0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.0, 0.95, 0.8, 0.6, 0.4, 0.2, 0.05, 0, 0])


@dataclasses.dataclass
class Expression:
    """Non-rigid motion of N frames (each field an array of shape (N,), gaze (N, 2)).
    ``mouth``: jaw drop in mm (0 = closed, ~20 = wide); ``smile`` and ``width`` in [-1, 1];
    ``blink`` in [0, 1] (1 = closed); ``brows``: mm up; ``gaze``: iris offset in mm (x, y)."""

    mouth: np.ndarray
    smile: np.ndarray
    width: np.ndarray
    blink: np.ndarray
    brows: np.ndarray
    gaze: np.ndarray

    def __len__(self) -> int:
        return len(self.mouth)


def identity_shape(rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A random face: the mean points with per-feature scalings/shifts (eye spacing and
    size, nose length and width, mouth width, lip thickness, jaw width, chin length, brow
    height, face length) plus a small smooth random deformation. Returns (P, 3)."""
    p = MEAN_POINTS.copy()
    g = lambda sd: float(rng.normal(0.0, sd * strength))  # noqa: E731
    face_w, face_l = 1 + g(0.06), 1 + g(0.06)
    p[:, 0] *= face_w
    p[:, 1] = np.where(p[:, 1] > 0, p[:, 1] * face_l, p[:, 1])
    jaw = np.arange(17)
    p[jaw[3:14], 0] *= 1 + g(0.07)  # jaw width (round vs narrow)
    p[jaw[6:11], 1] += g(5.0)  # chin length
    eyes = np.r_[36:48, AUX_SLICES["iris"].start:AUX_SLICES["iris"].stop]
    spacing, eye_size = g(2.5), 1 + g(0.1)
    for idx, sign in ((np.r_[36:42, AUX_SLICES["iris"].start], -1), (np.r_[42:48, AUX_SLICES["iris"].start + 1], 1)):
        centre = p[idx].mean(0)
        p[idx] = centre + (p[idx] - centre) * eye_size
        p[idx, 0] += sign * spacing
    p[eyes, 1] += g(1.5)
    p[17:27, 1] += g(3.0)  # brow height
    nose_len, nose_w = 1 + g(0.1), 1 + g(0.15)
    p[28:36, 1] = p[27, 1] + (p[28:36, 1] - p[27, 1]) * nose_len
    p[31:36, 0] *= nose_w
    p[27:36, 2] *= 1 + g(0.12)
    mouth_w, lip_t = 1 + g(0.1), 1 + g(0.18)
    p[_MOUTH, 0] *= mouth_w
    centre_y = p[_MOUTH, 1].mean()
    p[48:60, 1] = centre_y + (p[48:60, 1] - centre_y) * lip_t
    p[_MOUTH, 1] += g(3.0) + (nose_len - 1) * 10
    # smooth random deformation: a few low-frequency modes over the face
    modes = rng.normal(0.0, 1.2 * strength, size=(4, 3))
    u, v = p[:, 0] / 70.0, p[:, 1] / 70.0
    basis = np.stack([u * v, u * u - 0.5, v * v - 0.5, np.sin(2.0 * u)], 1)  # (P, 4)
    p += basis @ modes
    return p


def apply_expression(points: np.ndarray, e: Expression) -> np.ndarray:
    """Move the identity's points (P, 3) by N frames of expression → (N, P, 3)."""
    p = np.repeat(points[None], len(e), axis=0)
    col = lambda v: np.asarray(v, float)[:, None]  # noqa: E731  (N,) → (N, 1) for broadcasting
    # Blink: the upper lids move down onto the lower lids.
    blink = col(np.clip(e.blink, 0.0, 1.0))
    p[:, _UPPER_LIDS, 1] += blink * (p[:, _LOWER_LIDS, 1] - 0.6 - p[:, _UPPER_LIDS, 1])
    # Mouth opening: the lower lip and the chin drop, tapering to the corners and up the jaw.
    mouth_x = points[_MOUTH, 0]
    half_w = max(float(np.ptp(mouth_x)) / 2.0, 1e-6)
    taper = np.clip(1.0 - (np.abs(points[_LOWER_LIP, 0] - mouth_x.mean()) / half_w) ** 2, 0.0, 1.0) ** 0.5
    mouth = col(e.mouth)
    p[:, _LOWER_LIP, 1] += mouth * taper
    p[:, :17, 1] += 0.8 * mouth * _JAW_DROP
    p[:, [61, 62, 63], 1] -= 0.12 * mouth
    # Smile and width: the corners move out (and up when smiling), the mouth widens.
    cx = mouth_x.mean()
    p[:, _MOUTH, 0] = cx + (p[:, _MOUTH, 0] - cx) * (1.0 + 0.12 * col(e.width) + 0.08 * col(e.smile))
    p[:, _CORNERS, 1] -= 3.5 * col(e.smile)
    p[:, [49, 53, 59, 55], 1] -= 1.5 * col(e.smile)
    p[:, 17:27, 1] -= col(e.brows)
    iris = AUX_SLICES["iris"]
    p[:, iris, 0] += col(e.gaze[:, 0])
    p[:, iris, 1] += col(e.gaze[:, 1]) + blink
    return p


def rotation(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Rotation matrices (N, 3, 3) for head pose angles in degrees (yaw about y, pitch
    about x, roll about z; applied in that order)."""
    y, x, z = (np.radians(np.atleast_1d(np.asarray(a, float))) for a in (yaw, pitch, roll))
    one, zero = np.ones_like(y), np.zeros_like(y)
    ry = np.stack([np.stack([np.cos(y), zero, np.sin(y)], -1), np.stack([zero, one, zero], -1),
                   np.stack([-np.sin(y), zero, np.cos(y)], -1)], -2)
    rx = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, np.cos(x), -np.sin(x)], -1),
                   np.stack([zero, np.sin(x), np.cos(x)], -1)], -2)
    rz = np.stack([np.stack([np.cos(z), -np.sin(z), zero], -1), np.stack([np.sin(z), np.cos(z), zero], -1),
                   np.stack([zero, zero, one], -1)], -2)
    return rz @ rx @ ry


def project(points: np.ndarray, yaw, pitch, roll, scale: float, centre: np.ndarray,
            camera_distance: float = 700.0) -> np.ndarray:
    """Pose points ((N,) P, 3) about the head centre and project them with a pinhole camera
    ``camera_distance`` mm away. Pose angles: scalars or (N,) degrees; ``scale``: pixels per
    mm at the face; ``centre``: (2,) or (N, 2) pixel position of the model point (0, 30, 0)
    (mid-nose). Returns pixel coordinates ((N,) P, 2)."""
    single = points.ndim == 2
    pts = points[None] if single else points
    r = rotation(yaw, pitch, roll)
    posed = np.einsum("npj,nij->npi", pts - HEAD_CENTRE, r) + HEAD_CENTRE
    f = camera_distance / (camera_distance - posed[..., 2])
    centre = np.broadcast_to(np.asarray(centre, float).reshape(-1, 2), (len(posed), 2))
    xy = np.empty(posed.shape[:-1] + (2,))
    xy[..., 0] = centre[:, :1] + scale * posed[..., 0] * f
    xy[..., 1] = centre[:, 1:] + scale * (posed[..., 1] - 30.0) * f
    return xy[0] if single else xy
