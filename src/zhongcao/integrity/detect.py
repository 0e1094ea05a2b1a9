"""Every detector over one :class:`IntegrityInputs`: ``detect_blocks(inputs) -> list[Block]``.

Velocity rules, lockstep dense blocks per action (FRAUDAR candidates, CopyCatch verification),
brushing rings over orders and near-duplicate review text. Pure: arrays in, blocks out, best first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zhongcao.integrity.blocks import Block
from zhongcao.integrity.brushing import BrushingConfig, brushing_blocks
from zhongcao.integrity.inputs import IntegrityInputs
from zhongcao.integrity.lockstep import LockstepConfig, engagement_blocks
from zhongcao.integrity.review_text import ReviewTextConfig, review_text_blocks
from zhongcao.integrity.velocity import VelocityConfig, velocity_blocks


@dataclass(frozen=True)
class DetectConfig:
    velocity: VelocityConfig | None = field(default_factory=VelocityConfig)  # None: that detector is off
    lockstep: LockstepConfig | None = field(default_factory=LockstepConfig)
    brushing: BrushingConfig | None = field(default_factory=BrushingConfig)
    review_text: ReviewTextConfig | None = field(default_factory=ReviewTextConfig)


def detect_blocks(inputs: IntegrityInputs, config: DetectConfig | None = None) -> list[Block]:
    config = config or DetectConfig()
    blocks: list[Block] = []
    if config.velocity is not None:
        blocks += velocity_blocks(inputs.engagement, config.velocity)
    if config.lockstep is not None:
        blocks += engagement_blocks(inputs.engagement, inputs.now, config.lockstep)
    if config.brushing is not None:
        blocks += brushing_blocks(inputs.orders, inputs.reviews, config.brushing)
    if config.review_text is not None:
        blocks += review_text_blocks(inputs.reviews, config.review_text)
    return sorted(blocks, key=lambda b: (-b.score, b.kind.value, b.start))
