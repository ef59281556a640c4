"""The claims of chapter 'random_cnn_random_dcn' (He et al. §4, Shu et al.): ids, sources, statements and the rules
that decide them. The replicates are the random networks: every statistic is taken over each network's mean
over the images (the paper's per-network average), never over one network."""
from __future__ import annotations

from . import Claim
from .rules import AllOf, Equivalent, Trend, TrendDifference, Within

CHAPTER = "random_cnn_random_dcn"

CLAIMS = (
    Claim(
        id="ssim_falls_with_depth", chapter=CHAPTER, paper="he", where="§4.1, Fig. 7 (first row)",
        statement="The deeper the random representation ConvK, the coarser the reconstruction of the purely random "
                  "ConvK-DeConvK: its SSIM falls as K grows from 1 to 5.",
        rule=Trend("K", "ssim", "decreasing"),
        thresholds="none: the sign of Spearman's ρ over every (K, network) point, with its 95 % interval",
        designed_for=("book", "paper"),
    ),
    Claim(
        id="simplified_matches_full", chapter=CHAPTER, paper="he", where="§4.1, Fig. 7 (second row)",
        statement="The simplified input-ConvK-DeConvK-output net of ConvK's width and shape reconstructs about as "
                  "well as the full ConvK-DeConvK, at every K: width matters, depth little.",
        rule=Equivalent("full", "simplified", margin=0.1, x="K"),
        thresholds="ours: 'about as well' read as mean SSIMs within ±0.1 (a tenth of SSIM's range) at every K",
        # At Conv1 the per-network SSIM of the full net varies by ~0.1-0.2 between networks, so a Welch interval
        # narrower than ±0.1 needs about the paper's 30 networks per K and kind; the book affords a few full VGG16s
        # at 227 px per K.
        designed_for=("paper",), knob="networks per K and kind (depth_networks)",
    ),
    Claim(
        id="variant_ssim_rises_with_width", chapter=CHAPTER, paper="he", where="§4.2, Figs. 8-9 (b)",
        statement="Increasing the number of random channels N promotes the reconstruction quality of the variant "
                  "(last layer the mean over channels): its SSIM rises with N.",
        rule=Trend("N", "ssim", "increasing"),
        thresholds="none: the sign of Spearman's ρ over every (N, network) point, with its 95 % interval",
        designed_for=("book", "paper"),
    ),
    Claim(
        id="variant_trend_more_apparent", chapter=CHAPTER, paper="he", where="§4.2, Figs. 8-9 (a) vs (b)",
        statement="The increasing trend with N is much more apparent for the variant than for the original rrVGG "
                  "(last layer a random conv).",
        rule=TrendDifference("N", "variant", "original", "increasing"),
        thresholds="none: Spearman's ρ of the variant's SSIM against N minus the original's, on the Fisher-z "
                   "scale, with its 95 % interval",
        designed_for=("book", "paper"),
    ),
    Claim(
        id="variant_spread_shrinks", chapter=CHAPTER, paper="he", where="§4.2, Figs. 8-9 (b)",
        statement="The variant converges as N grows: the spread of its SSIM over networks shrinks.",
        rule=Trend("N", "deviation", "decreasing"),
        revised="first designed for the book profile; moved to the paper profile (with the Theorem 5.2 argument "
                "below) after the book run came out inconclusive.",
        thresholds="none: Spearman's ρ, over every network of every N, of the network's distance from its N's "
                   "median SSIM (Brown-Forsythe's spread statistic), with its 95 % interval",
        # Theorem 5.2 bounds the fluctuation about the limit by O(1/√N): a spread that shrinks is the large-N
        # regime, which the paper's widths reach (to 2048) and the book's (to 256, where the widest conv costs as
        # much as all the narrower ones together) barely enter.
        designed_for=("paper",), knob="the largest number of channels N",
    ),
    Claim(
        id="ssim_falls_with_kernel", chapter=CHAPTER, paper="he", where="§4.3",
        statement="The reconstruction quality of rrVGG Conv1_1-DeConv1_1 decays as the kernel size k grows.",
        rule=Trend("k", "ssim", "decreasing"),
        thresholds="none: the sign of Spearman's ρ over every (k, network) point, with its 95 % interval",
        designed_for=("book", "paper"),
    ),
    Claim(
        id="positions_kept_colours_lost", chapter=CHAPTER, paper="shu", where="abstract; He et al. §4.2",
        statement="A purely random CNN-DCN reconstructs the positions of the image from a low layer, but the colours "
                  "change: its output's geometry correlates with the input's, its colours do not.",
        rule=AllOf((Within("geometry_r", 0.3, 1.0, "mean"), Within("colour_r", -0.1, 0.1, "mean"))),
        revised="first measured on §4.2's pooled Conv1-DeConv1 with signed r (inconclusive at the book profile); "
                "then moved to Fig. 7's Conv1 network, which Shu et al.'s sentence describes, and to |r|, as He et "
                "al. §4 reads r. The thresholds were not changed.",
        thresholds="ours, Cohen's (1988) conventions for a correlation: 'kept' = a mean grayscale |r| (He et "
                   "al. §4 read r by its magnitude) of at least 0.3 (medium), 'lost' = a mean colour r within ±0.1 "
                   "(below small)",
        designed_for=("book", "paper"),
    ),
)
