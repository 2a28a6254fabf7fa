"""Talking-head face data, below the generator, the metrics and the detectors that consume it:
the prepared dataset format (`dataset`), synthetic faces (`face3d`, `synth`), real videos
prepared (`clips`, `prepare`), the one face crop (`crop`) and the backend check (`face_check`).
It imports none of `talkbench.generator`, `metrics`, `detector`, `benchmarks`, `reports`."""
