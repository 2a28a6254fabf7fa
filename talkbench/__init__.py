"""talkbench: few-shot talking-head forgeries, their realism and their detectability.

Sub-packages: ``talkbench.data`` (face datasets, synthetic and prepared, and the face crop),
``talkbench.generator`` (the Zakharov et al. 2019 model), ``talkbench.metrics``,
``talkbench.detector``, ``talkbench.benchmarks``, ``talkbench.reports``; core helpers
(config, weights, face backends) live here.
"""

__version__ = "0.1.0"
