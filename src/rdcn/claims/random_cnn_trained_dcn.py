"""The claims of chapter 'random_cnn_trained_dcn': ids, sources, statements and the rules that decide them."""
from __future__ import annotations

from . import Claim
from .rules import Exact

CLAIMS = (
    Claim(
        id="conv2_random_below_trained", chapter="random_cnn_trained_dcn", paper="he", where="§3.2",
        statement=("At Conv2, after the same iterations, the DCN of the random VGG16 reaches a lower held-out loss than the "
          "DCN of the classification-trained VGG16 (mean over replicates)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("paper",),
        knob="width (0.125, 0.25, 0.5) and the classifier's training length",
    ),
    Claim(
        id="trained_random_ratio_grows_with_depth", chapter="random_cnn_trained_dcn", paper="he", where="§3.2",
        statement=("The trained/random held-out loss ratio grows with depth: larger at Conv5 than at Conv1 (VGG16)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
    Claim(
        id="sigma_sweep_initial_spread_final_narrow", chapter="random_cnn_trained_dcn", paper="he", where="§3.2",
        statement=("Gaussian σ sweep: the losses early in training spread widely, the final losses much less (the log "
          "max/min ratio of the final losses at most half that of the losses over the first tenth of training)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("paper",),
        knob="iterations of DCN training",
    ),
    Claim(
        id="distributions_within_1.5x", chapter="random_cnn_trained_dcn", paper="he", where="§3.2",
        statement=("The four distributions (Gaussian, Uniform, Logistic, Laplace) reach final held-out losses within 1.5× of "
          "each other (VGG16 Conv2-DeConv2)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
)
