"""Face analysis backends: detection, 68-point landmarks (iBUG 300-W order) and identity
embeddings behind one small batched numpy interface, chosen by name or ``auto``."""

from talkbench.faces.base import Capability, Detections, FaceBackend
from talkbench.faces.registry import available_backends, create_backend, register_backend

__all__ = ["Capability", "Detections", "FaceBackend", "available_backends", "create_backend",
           "register_backend"]
