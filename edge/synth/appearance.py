"""How the synthetic athlete looks: skin, clothes, shoes and hair, and their palette.

Colours are RGB triples in [0, 1] (the renderer converts to BGR only when it writes the
image).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

import numpy as np

from edge.synth.geometry import Vec

RGB = tuple[float, float, float]

# Skin tones from very light to very dark (sRGB / 255), spanning the Fitzpatrick I-VI
# range; samples are drawn between neighbouring tones.
_SKIN_TONES = (
    np.array(
        [
            [243, 209, 186],
            [226, 178, 148],
            [200, 144, 110],
            [165, 108, 76],
            [120, 77, 52],
            [78, 50, 36],
        ]
    )
    / 255.0
)
_HAIR = np.array([[20, 17, 15], [50, 35, 25], [95, 65, 40], [170, 135, 90], [140, 70, 35]]) / 255.0
_GREY_HAIR = np.array([150, 148, 145]) / 255.0
_SHIRTS = np.array(
    [
        [25, 25, 28], [60, 62, 68], [130, 132, 138], [225, 225, 228], [25, 40, 80],
        [150, 30, 35], [35, 90, 60], [40, 90, 160], [200, 120, 40], [90, 40, 110],
    ]
) / 255.0  # fmt: skip
_BOTTOMS = np.array([[22, 22, 25], [45, 45, 50], [90, 92, 98], [25, 35, 65], [60, 50, 45]]) / 255.0
_DARK_SHOES = np.array([[30, 30, 32], [50, 55, 65], [80, 30, 30]]) / 255.0
_WHITE = (0.86, 0.86, 0.85)


class Material(IntEnum):
    """Palette indices of the renderer's surfaces."""

    SKIN = 0
    SHIRT = 1
    BOTTOM = 2
    SHOE = 3
    SOLE = 4
    HAIR = 5
    EYE = 6
    BAR = 7
    PLATE = 8
    IRON = 9


@dataclass(frozen=True)
class Appearance:
    """The athlete's colours and clothing (RGB in [0, 1]).

    Attributes:
        skin_rgb: Skin colour.
        shirt_rgb: T-shirt or top colour.
        bottom_rgb: Shorts or leggings colour.
        bottom: "shorts" (above the knee) or "leggings" (to the ankle).
        sleeves: "short", "long" or "none" (tank top).
        shoe_rgb: Shoe upper colour.
        sole_rgb: Shoe sole colour.
        hair_rgb: Hair colour.
        hair: "short", "long" (with a ponytail) or "none".
    """

    skin_rgb: RGB = (0.80, 0.60, 0.47)
    shirt_rgb: RGB = (0.12, 0.12, 0.14)
    bottom_rgb: RGB = (0.10, 0.10, 0.12)
    bottom: Literal["shorts", "leggings"] = "shorts"
    sleeves: Literal["short", "long", "none"] = "short"
    shoe_rgb: RGB = _WHITE
    sole_rgb: RGB = (0.75, 0.75, 0.74)
    hair_rgb: RGB = (0.12, 0.09, 0.07)
    hair: Literal["short", "long", "none"] = "short"

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Appearance:
        """Draws a plausible gym outfit and a skin tone from the realistic range."""
        tone = rng.uniform(0.0, len(_SKIN_TONES) - 1.0)
        low = int(tone)
        high = min(low + 1, len(_SKIN_TONES) - 1)
        skin = _SKIN_TONES[low] + (tone - low) * (_SKIN_TONES[high] - _SKIN_TONES[low])
        hair = _GREY_HAIR if rng.random() < 0.08 else _HAIR[rng.integers(len(_HAIR))]
        white_shoes = rng.random() < 0.5
        shoe = np.array(_WHITE) if white_shoes else _DARK_SHOES[rng.integers(len(_DARK_SHOES))]
        sole = (0.75, 0.75, 0.74) if rng.random() < 0.7 else (0.15, 0.15, 0.16)
        return cls(
            skin_rgb=_jitter(rng, skin, 0.02),
            shirt_rgb=_jitter(rng, _SHIRTS[rng.integers(len(_SHIRTS))], 0.04),
            bottom_rgb=_jitter(rng, _BOTTOMS[rng.integers(len(_BOTTOMS))], 0.02),
            bottom="shorts" if rng.random() < 0.6 else "leggings",
            sleeves=("short", "long", "none")[int(rng.choice(3, p=[0.65, 0.15, 0.2]))],
            shoe_rgb=_jitter(rng, shoe, 0.02),
            sole_rgb=sole,
            hair_rgb=_jitter(rng, hair, 0.02),
            hair=("short", "long", "none")[int(rng.choice(3, p=[0.55, 0.35, 0.1]))],
        )

    def palette(self) -> tuple[Vec, Vec]:
        """Returns `(albedo (M, 3) RGB, specular (M,))` indexed by `Material`."""
        rows = {
            Material.SKIN: (self.skin_rgb, 0.12),
            Material.SHIRT: (self.shirt_rgb, 0.04),
            Material.BOTTOM: (self.bottom_rgb, 0.06),
            Material.SHOE: (self.shoe_rgb, 0.15),
            Material.SOLE: (self.sole_rgb, 0.05),
            Material.HAIR: (self.hair_rgb, 0.10),
            Material.EYE: ((0.06, 0.05, 0.05), 0.4),
            Material.BAR: ((0.62, 0.63, 0.65), 0.8),
            Material.PLATE: ((0.08, 0.08, 0.09), 0.1),
            Material.IRON: ((0.10, 0.10, 0.11), 0.3),
        }
        albedo = np.array([rows[m][0] for m in Material], dtype=np.float64)
        specular = np.array([rows[m][1] for m in Material], dtype=np.float64)
        return albedo, specular


def _jitter(rng: np.random.Generator, rgb: Vec, amount: float) -> RGB:
    """Returns rgb with a little per-channel noise, clipped to [0, 1]."""
    out = np.clip(np.asarray(rgb) + rng.normal(0.0, amount, 3), 0.0, 1.0)
    return (float(out[0]), float(out[1]), float(out[2]))
