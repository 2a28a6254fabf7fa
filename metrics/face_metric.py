"""The part every face-based metric (CSIM, landmark error, identity-space FD/KID) shares:
it holds a face backend — given, or created for the capability it needs — and reports
that backend's name, which is part of the metric's reported name."""

from __future__ import annotations

from talkbench.faces import Capability, FaceBackend, create_backend


class FaceBackedMetric:
    """Mixin placed before :class:`~talkbench.metrics.base.Metric` in the bases."""

    face: FaceBackend

    def _use_face(self, backend: str | FaceBackend, capability: Capability) -> None:
        self.face = backend if isinstance(backend, FaceBackend) else create_backend(backend, capability=capability)

    @property
    def backend(self) -> str:
        return self.face.name
