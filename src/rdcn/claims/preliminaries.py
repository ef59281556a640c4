"""The claims of chapter 1 (He et al. §2, Shu et al. §2): ids, sources, statements and the rules that decide them.

Table 1 is a deterministic fact of the architecture (an exact comparison). The initializer is checked by one
Kolmogorov–Smirnov test per distribution. That a purely random Conv1-DeConv1 keeps its input's geometry is decided
on replicates: every embedded photograph passes through its own random network.
"""
from __future__ import annotations

from . import Claim
from .rules import Bound, Exact, PairedDifference

CLAIMS = (
    Claim(
        id="table1_exact", chapter="preliminaries", paper="he", where="§2.1 and §4, Table 1",
        statement="VGG16 on a 227 × 227 input has the channels, shapes and dimensions of Table 1 at the input and "
                  "at Conv1–Conv5",
        rule=Exact("matches", "every channel count, shape and dimension of the measured table equals Table 1's"),
        thresholds="none: an exact comparison with the paper's Table 1 as printed",
        designed_for=("book", "paper"),
        # The table is a fact of the architecture at 227 px, which every profile uses: designed for all.
    ),
    Claim(
        id="initializer_matches_distributions", chapter="preliminaries", paper="he", where="§2.2",
        statement="The random weights follow the four distributions of §2.2: Gaussian (σ = 0.015), Uniform on "
                  "[−0.04, 0.04), Logistic (scale 0.015) and Laplace",
        rule=Bound("ks_statistic", "ks_critical"),
        thresholds="ours: one Kolmogorov–Smirnov test per distribution at level 0.001/4 (Bonferroni: a correct "
                   "initializer fails any of the four with probability ≤ 0.001); the critical D is Kolmogorov's "
                   "for the number of weights drawn",
        designed_for=("book", "paper"),
        # Enough draws (2·10⁵ at book) to see a wrong scale or shape; the test's level holds at any number.
    ),
    Claim(
        id="random_conv1_keeps_geometry", chapter="preliminaries", paper="he",
        where="§4.1, Fig. 7 (Conv1); Shu et al.'s abstract",
        statement="With no training at all, a purely random Conv1-DeConv1 returns an image whose geometry is its "
                  "input's: it correlates (Pearson |r|, §4's measure of geometry) more with its own input than with "
                  "any other photograph",
        rule=PairedDifference("r_input", "r_best_other", alternative="greater"),
        revised="the claim was first decided by the same paired rule on SSIM, which came out inconclusive at the "
                "book profile; the paper's own measure of geometry, |r|, was registered after that was seen. The "
                "chapter shows the SSIM verdict beside this one.",
        thresholds="ours: 0 — the mean over photographs (each through its own random network) of |r| with the "
                   "input minus the largest |r| with another photograph, Student-t 95 % interval above 0",
        designed_for=("book", "paper"),
        # Full-width VGG16 Conv1 at 227 px: the paper's own Conv1 setting. §4 reads geometry from r ("an extreme
        # r, either positive or negative, indicates a high correlation with the geometric information") and uses
        # SSIM for trends; the chapter reports SSIM's paired difference beside it.
    ),
)
