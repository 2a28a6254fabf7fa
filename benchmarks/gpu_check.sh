#!/usr/bin/env bash
# The checks that need CUDA, as one script for a lent GPU machine (they cannot run on the CPU
# machines this project is built on). Run from the repository root, in an environment where
# `pip install -e ".[test]"` was done; prints each part's figures and exits non-zero if any part
# failed. Results go to ${OUT:-/tmp/gpu_check}/.
#   1. the tests marked gpu (bf16 autocast + channels_last training, FF/FT on CUDA);
#   2. the quick suite end to end on CUDA;
#   3. the paper preset's training step at 256 px: images/s and the fraction of the GPU's
#      measured bf16 matmul peak;
#   4. that step compiled (torch.compile) beside eager, bounded to 5 minutes.
set -uo pipefail
out="${OUT:-/tmp/gpu_check}"
mkdir -p "$out"
fail=0
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA here'; print('gpu_check:', torch.cuda.get_device_name(0), torch.__version__)" || exit 2

echo "== 1. pytest -m gpu"
pytest -m gpu -q -p no:cacheprovider -rs || fail=1

echo "== 2. talkbench run quick on CUDA"
t0=$(date +%s)
talkbench run quick device=cuda --out "$out/quick" --no-progress || fail=1
echo "gpu_check: quick suite on CUDA took $(( $(date +%s) - t0 )) s"

echo "== 3. paper preset training step at 256 px"
python -m talkbench.benchmarks.perf.generator --device cuda --sizes 256 --batch 8 --k 8 --steps 10 --ft-steps 1 || fail=1
echo "== 4. the same step with torch.compile beside eager (train compile=true; at most 5 min, last: it may not pay)"
timeout 300 python -m talkbench.benchmarks.perf.generator --device cuda --sizes 256 --batch 8 --k 8 --steps 10 --ft-steps 1 --compile \
  || echo "gpu_check: the compile comparison did not finish (not counted as a failure)"
exit "$fail"
