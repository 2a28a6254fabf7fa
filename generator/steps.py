"""One adversarial update of generator and discriminator, shared by meta-learning and
few-shot fine-tuning, and the guards against the collapses re-implementers hit.

Ordering per step: the generator side (E, G; or G and ψ' when fine-tuning) minimises
L_CNT + L_ADV (−r + 10·L_FM) [+ L_MCH], then D takes ``d_steps`` hinge updates on the same
real/fake pair. L_MCH pulls ê towards W_i in the generator step (W detached) and W_i towards
ê in the discriminator step (ê detached): each optimiser moves only its own parameters,
which is what the paper's joint objective does to each of them.
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable, Iterator

import torch

from talkbench.errors import TalkbenchError
from talkbench.tensors import tensor_sum
from talkbench.generator.losses import LossConfig, d_hinge, embedding_match, feature_matching, g_adversarial

Disc = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]]
Content = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]  # (fake, real) → L_CNT terms


class TrainingCollapsed(TalkbenchError):
    """Training produced NaN/inf losses or degenerate (near-constant) images."""


def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (no loss scaling needed); a no-op elsewhere."""
    if device.type == "cuda" and enabled:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@contextlib.contextmanager
def _frozen(params: list[torch.Tensor]) -> Iterator[None]:
    """No gradients for ``params`` within the block. The generator update backpropagates
    through D to the fakes but has no use for D's own gradients (D's update zeroes them
    first), so not computing them saves part of D's backward; the step is bitwise the same."""
    params = [p for p in params if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def gan_step(generate: Callable[[], tuple[torch.Tensor, torch.Tensor | None]], discriminate: Disc,
             target: torch.Tensor, target_landmarks: torch.Tensor, content: Content, loss: LossConfig,
             opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, d_steps: int = 1,
             amp: contextlib.AbstractContextManager | None = None,
             extra_g: Callable[[torch.Tensor], torch.Tensor] | None = None) -> tuple[dict[str, float], torch.Tensor]:
    """One generator update and ``d_steps`` discriminator updates.

    ``generate()`` returns (fake images, ê or None); ``discriminate(x, y)`` returns (scores,
    features, projection rows). Real and fake go through D in one batch (D has no batch
    statistics), which also keeps DistributedDataParallel to one forward per backward.
    ``extra_g(fake)``: an optional extra generator-side loss term (``g_extra``), e.g. the
    evasion term of detector-aware fine-tuning. ``content(fake, target)``: the L_CNT terms, a
    ``ContentLoss`` (or one bound to the targets' cached features, as fine-tuning does).
    Returns the losses as floats and the generated batch (detached).
    """
    amp = amp or contextlib.nullcontext()
    b = target.shape[0]
    both_y = torch.cat([target_landmarks, target_landmarks])
    with _frozen([p for group in opt_d.param_groups for p in group["params"]]):
        with amp:
            fake, e = generate()
            score, feats, rows = discriminate(torch.cat([fake, target]), both_y)
            terms = content(fake, target)
            terms["adv"] = loss.adv_weight * g_adversarial(score[:b])
            terms["fm"] = loss.fm_weight * feature_matching([f[:b] for f in feats], [f[b:] for f in feats])
            if e is not None and loss.mch_weight > 0 and loss.mch_to_embedder:
                terms["mch"] = loss.mch_weight * embedding_match(e, rows[:b].detach())
            if extra_g is not None:
                terms["extra"] = extra_g(fake)
            loss_g = tensor_sum(terms.values())
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
    opt_g.step()
    out = {f"g_{k}": float(v.detach()) for k, v in terms.items()}
    out["g_total"] = float(loss_g.detach())
    fake = fake.detach()
    for _ in range(d_steps):
        with amp:
            score, _, rows = discriminate(torch.cat([target, fake]), both_y)
            d_terms = {"hinge": d_hinge(score[:b], score[b:])}
            if e is not None and loss.mch_weight > 0:
                d_terms["mch"] = loss.mch_weight * embedding_match(e.detach(), rows[:b])
            loss_d = tensor_sum(d_terms.values())
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
    out.update({f"d_{k}": float(v.detach()) for k, v in d_terms.items()})
    out["d_real"] = float(score[:b].detach().float().mean())
    out["d_fake"] = float(score[b:].detach().float().mean())
    return out, fake


class CollapseGuard:
    """Stops training on NaN/inf losses at once, and on near-constant generated images
    (per-image pixel std below ``min_std`` on the [-1, 1] scale) for ``patience``
    consecutive checks after ``after`` steps — the black/single-colour collapse."""

    def __init__(self, min_std: float = 0.02, patience: int = 5, after: int = 0) -> None:
        self.min_std = min_std
        self.patience = patience
        self.after = after
        self.bad = 0

    def check(self, step: int, losses: dict[str, float], fake: torch.Tensor) -> None:
        bad = sorted(k for k, v in losses.items() if not math.isfinite(v))
        if bad:
            raise TrainingCollapsed(
                f"step {step}: loss {', '.join(bad)} is not finite ({', '.join(f'{k}={losses[k]}' for k in bad)}); "
                "training stopped, the last checkpoint is intact — lower the learning rates or check the data")
        if not torch.isfinite(fake).all():
            raise TrainingCollapsed(f"step {step}: generated images contain NaN/inf; training stopped")
        std = float(fake.float().flatten(1).std(dim=1).mean())
        if step < self.after:
            return
        self.bad = self.bad + 1 if std < self.min_std else 0
        if self.bad >= self.patience:
            raise TrainingCollapsed(
                f"step {step}: generated images are near-constant (mean per-image std {std:.4f} < "
                f"{self.min_std}) for {self.bad} consecutive steps — the generator collapsed; training "
                "stopped, resume from the last checkpoint with lower learning rates or more D steps")
