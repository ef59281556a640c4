"""The claims of chapter 'preliminaries': ids, sources, statements and the rules that decide them."""
from __future__ import annotations

from . import Claim
from .rules import Exact

CLAIMS = (
    Claim(
        id="table1_exact", chapter="preliminaries", paper="he", where="§2",
        statement=("VGG16 on a 227×227 input gives the channels, shapes and dimensions of Table 1"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
    Claim(
        id="initializer_matches_distributions", chapter="preliminaries", paper="he", where="§2",
        statement=("The weights the initializer draws follow the four distributions of §2.2 (Kolmogorov–Smirnov p > 0.001)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
    Claim(
        id="random_conv1_keeps_geometry", chapter="preliminaries", paper="he", where="§2",
        statement=("A purely random Conv1-DeConv1 returns an image whose geometry matches its input: its SSIM with the input "
          "is above its SSIM with any other held-out photograph"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
)
