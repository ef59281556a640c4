"""The claims of chapter 'theory' (He et al. §5, Appendix A): ids, sources, statements and the rules that decide
them. The paper's formulas were lost in extraction; the statements are our reconstruction of them (chapter 4
derives each one), and every threshold is ours."""
from __future__ import annotations

from . import Claim
from .rules import Bound, Slope, Trend, Within

#: Ours: the range around Theorems 5.2/5.3's predicted slope −1/2 that a fitted slope's 95 % interval must lie in.
SLOPE_RANGE = (-0.6, -0.4)
#: The failure probability at which the chapter evaluates Theorems 5.2 and 5.3 (ours).
DELTA = 0.1

CLAIMS = (
    Claim(
        id="lemma_a2_monte_carlo", chapter="theory", paper="he", where="Appendix A.1, Lemma A.2",
        statement=("Lemma A.2: for Gaussian filters, E σ(w·u)σ(w·v) = c₂(sin θ + (π − θ)cos θ)/π for unit vectors "
                   "u, v at angle θ (the degree-1 arc-cosine kernel)"),
        rule=Within("max_deviation", high=0.02, statistic="mean"),
        thresholds=("ours: the largest |Monte Carlo − closed form| over the angles, in units of c₂ = g(0), "
                    "averaged over independent Monte Carlo replicates, must be below 2 % of c₂"),
        designed_for=("book", "paper"),
        # 200,000 filters per estimate (book) leave a standard error of about 0.5 % of c₂ per angle.
    ),
    Claim(
        id="limit_matches_wide_network", chapter="theory", paper="he", where="§5.1, Theorem 5.1; Appendix A.1",
        statement=("Theorem 5.1: as every width grows, the output of the ℓ2 variant converges to the limit ȳ "
                   "(computed by the exact recursion); at the widest width the cosine between output and ȳ is "
                   "close to 1"),
        rule=Within("cos_widest", low=0.99, statistic="mean"),
        thresholds=("ours: the mean over networks (each averaged over the images) of cos(y, ȳ) at the widest "
                    "width must exceed 0.99"),
        designed_for=("book", "paper"),
        # The 1/√N rate puts 1 − cos ≈ θ²/2 at order 1/N: widths of 1024 (book) and 2048 (paper) are wide enough.
    ),
    Claim(
        id="angle_slope_half", chapter="theory", paper="he", where="§5.2, Theorem 5.2; Appendix A.2, Theorem A.3",
        statement=("Theorem 5.2: for the two-layer variant (one conv, then the mean) the angle between output and "
                   "limit falls like 1/√N: log–log slope −1/2"),
        rule=Slope("width", "angle", *SLOPE_RANGE),
        thresholds=("ours: ±0.1 around the predicted −1/2; the fit uses the per-network angles (mean over the "
                    "images) at the widths of the small-angle regime, where the expected squared relative error "
                    "(π − 1)/N is at most 0.1 (N ≥ 22)"),
        designed_for=("book", "paper"),
        revised="with 10 networks to width 1024 the book run came out inconclusive (slope −0.580, 95 % CI −0.649 "
                "to −0.510); the two-layer sweep was then enlarged to 30 networks and widths to 4096, the rule and "
                "its range unchanged.",
    ),
    Claim(
        id="multilayer_angle_slope_half", chapter="theory", paper="he",
        where="§5.2, Theorem 5.3; Appendix A.2, Theorem A.5",
        statement=("Theorem 5.3: for the multi-layer ℓ2 variant (Conv1-DeConv1) the angle between output and limit "
                   "falls like 1/√N as well: log–log slope −1/2"),
        rule=Slope("width", "angle", *SLOPE_RANGE),
        thresholds="ours: as for angle_slope_half (the same range, the same widths N ≥ 22)",
        designed_for=("paper",),
        knob=("the smallest width in the fit: three stacked random convs compound their errors, so the 1/√N regime "
              "starts later than for one conv (our Theorem 5.3 bound is informative only from N ≈ 1000); the "
              "paper's scale (30 networks per width, widths to 2048) is designed for it, the book's is not"),
    ),
    Claim(
        id="theorem_5_2_bound_holds", chapter="theory", paper="he", where="§5.2, Theorem 5.2; Appendix A.2",
        statement=("Theorem 5.2 (our reconstruction): with probability ≥ 1 − δ over the filters, the two-layer "
                   "variant's angle to its limit is at most arcsin √((π − 1)/(Nδ))"),
        rule=Within("exceeded", high=DELTA, statistic="mean"),
        thresholds=("ours: δ = 0.1; per network, the share of images whose angle exceeds the bound, at the widths "
                    "where the bound is below π/2 (N ≥ 22); the mean share must be below δ"),
        designed_for=("book", "paper"),
        # The bound is below π/2 from N ≥ 22 (its formula): the book has three such widths.
    ),
    Claim(
        id="theorem_5_3_bound_holds", chapter="theory", paper="he",
        where="§5.2, Theorem 5.3; Appendix A.2, Theorem A.5",
        statement=("Theorem 5.3 (our reconstruction, with its constants and without the 'at most one route' "
                   "hypothesis): with probability ≥ 1 − δ over the filters, the ℓ2 Conv1-DeConv1's angle to its "
                   "limit is at most the bound of rdcn.he.bounds.theorem_5_3_bound"),
        rule=Within("exceeded", high=DELTA, statistic="mean"),
        thresholds=("ours: δ = 0.1; per network, the share of images whose angle exceeds the bound, at the widths "
                    "where the bound is below π/2 on every image; the mean share must be below δ"),
        designed_for=("book", "paper"),
        # The bound's formula (no network drawn) puts it below π/2 at the book's widest width, 1024.
    ),
    Claim(
        id="theorem_5_4_bound_holds", chapter="theory", paper="he",
        where="§5.3, Theorem 5.4; Appendix A.3, Theorem A.6",
        statement=("Theorem 5.4: for the two-layer variant and a non-negative one-channel image, "
                   "1 − ‖δ‖/‖x‖ ≤ ⟨x, m⟩/‖x‖² ≤ cos(x, ȳ) for every kernel size"),
        rule=Bound("lower", "upper"),
        thresholds="deterministic (ȳ is exact): both inequalities on every image and kernel size, up to rounding",
        designed_for=("book", "paper"),
    ),
    Claim(
        id="cos_falls_with_kernel", chapter="theory", paper="he", where="§5.3 (after Theorem 5.4), §4.3",
        statement=("§5.3: as the kernel grows the bound of Theorem 5.4 weakens, which explains §4.3: cos(x, ȳ) of "
                   "the two-layer variant falls as the kernel size grows"),
        rule=Trend("kernel_size", "cos", "decreasing"),
        thresholds="ours: Spearman's ρ over every (kernel size, image) point, its 95 % interval below 0",
        designed_for=("book", "paper"),
    ),
    Claim(
        id="corrected_multilayer_bound_holds", chapter="theory", paper="he", where="Appendix A.3 (multi-layer form)",
        statement=("Our multi-layer form of Theorem 5.4 (route counts n_j, r_i) bounds cos(x, ȳ) of the ℓ2 "
                   "Conv1-DeConv1 from below on every image"),
        rule=Bound("bound", "cos"),
        thresholds="deterministic (ȳ and the route counts are exact): on every image, up to rounding",
        designed_for=("book", "paper"),
    ),
)
