"""The claims of chapter 'compressive_sensing': ids, sources, statements and the rules that decide them."""
from __future__ import annotations

from . import Claim
from .rules import Exact

CLAIMS = (
    Claim(
        id="rip_ratio_centred", chapter="compressive_sensing", paper="gilbert", where="§3–§4",
        statement=("Random Gaussian filters satisfy the model-RIP: the ratio ‖Wᵀz‖/‖z‖ over random model-sparse codes "
          "centres on 1 (|median − 1| < 0.05), in 1-D and in 2-D"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
    Claim(
        id="one_step_error_small", chapter="compressive_sensing", paper="gilbert", where="§3–§4",
        statement=("One step of IHT (one layer and its transpose) reconstructs the 1-D synthetic signals with a small "
          "relative error: median ‖x̂ − x‖/‖x‖ < 0.3 with the block positions known (𝕄_fixed)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
    Claim(
        id="iht_random_no_worse_than_learned", chapter="compressive_sensing", paper="gilbert", where="§3–§4",
        statement=("IHT reconstruction from pool(1)–pool(4) with random filters is about as good as with learned filters: "
          "its error is at most 1.2× the learned filters' at each pool layer"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("paper",),
        knob="the encoders' width and the learned encoder's training",
    ),
    Claim(
        id="random_filters_classify_above_chance_below_learned", chapter="compressive_sensing", paper="gilbert", where="§3–§4",
        statement=("CNNs with random filters (only the classifier trained) classify well above chance (more than twice "
          "chance at 1, 2 and 3 layers) but below the same CNNs with learned filters at 2 and 3 layers"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("book", "paper"),
    ),
    Claim(
        id="random_coherence_below_learned", chapter="compressive_sensing", paper="gilbert", where="§3–§4",
        statement=("Random filters are less coherent than learned ones at every conv layer (mutual coherence)"),
        rule=Exact("holds", "the chapter's check holds"),
        thresholds="ours", designed_for=("paper",),
        knob="the learned encoder's training length",
    ),
)
