"""The claims of chapter 'random_cnn_random_dcn': ids, sources, statements and the rules that decide them."""
from __future__ import annotations

from . import Claim
from .rules import Exact

CLAIMS = (
    Claim(
        id="ssim_falls_with_depth", chapter="random_cnn_random_dcn", paper="he", where="§4",
        statement=("The deeper the random representation ConvK, the coarser the reconstruction: the mean SSIM of ConvK-DeConvK "
          "falls with K (Spearman ρ ≤ −0.9)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("paper",),
        knob="depth K, with the zero-fill grid's share of the output",
    ),
    Claim(
        id="simplified_matches_full", chapter="random_cnn_random_dcn", paper="he", where="§4",
        statement=("The simplified input-conv-deconv net of ConvK's width and shape reconstructs about as well as the full "
          "ConvK-DeConvK: mean SSIMs within 0.1 of each other for every K"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("paper",),
        knob="depth K",
    ),
    Claim(
        id="variant_ssim_rises_with_width", chapter="random_cnn_random_dcn", paper="he", where="§4",
        statement=("Increasing the number of random channels N promotes the reconstruction quality; the trend is much more "
          "apparent for the variant: its mean SSIM rises with N (Spearman ρ ≥ 0.9)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("paper",),
        knob="the number of channels N",
    ),
    Claim(
        id="variant_spread_shrinks", chapter="random_cnn_random_dcn", paper="he", where="§4",
        statement=("The variant's spread over networks shrinks as N grows: std of the per-network mean SSIM at the largest N "
          "below that at the smallest"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
    Claim(
        id="ssim_falls_with_kernel", chapter="random_cnn_random_dcn", paper="he", where="§4",
        statement=("The reconstruction quality of rrVGG Conv1_1-DeConv1_1 decays as the kernel grows: mean SSIM falls with k "
          "(Spearman ρ ≤ −0.9)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
)
