"""Chapter 2's figures, tables and claim measurements (He et al. §3.2: Figs. 5a–c, Fig. 5's generalization table,
Fig. 6 and the reconstructions from Conv1 to Conv5), each computed from the trained models of the chapter's plan
(:mod:`rdcn.he.training_plan`) and returned, so that the notebook holds one call per figure.

:func:`open_study` opens the chapter's models (training what the plan lacks at ``smoke``/``book``, requiring them at
``paper``) and glues the sizes the prose quotes. The measurement functions return the named inputs of the claims'
rules (:mod:`rdcn.claims.random_cnn_trained_dcn`); :func:`scale_figure` draws a claim's statistic with its 95 %
interval along a scale knob, decided at each knob value by the claim's own rule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..claims import get as claim_of
from ..claims import of_chapter
from ..claims.random_cnn_trained_dcn import NEAR_SIGMAS
from ..claims.rules import Equivalent, PairedDifference, Spread, Trend
from ..core import architectures, data, figures, metrics, random_weights
from . import inversion, training_plan
from . import trained_encoder as classifiers
from .inversion import DCN, LAYERS

ARCHITECTURES = training_plan.ARCHITECTURES
CONVERGENCE_LEVEL = 1.1  # the level of random_dcn_converges_faster: 1.1 × the higher final loss of a pair


@dataclass
class Study:
    """The chapter's session (``ch``) and its trained models (``models``)."""

    ch: object
    models: training_plan.Models

    @property
    def sizes(self):
        return self.ch.S

    @property
    def replicates(self) -> range:
        return range(self.sizes.replicates)

    def dcn(self, dcn: DCN) -> inversion.Inversion:
        return self.models.dcn(dcn)

    def window(self, iterations: int | None = None) -> int:
        """The moving-average window of the training-loss curves: a thirtieth of the training."""
        return max(1, (iterations or self.sizes.iterations) // 30)


def open_study(ch) -> Study:
    """The models of chapter 2 at ``ch``'s run, ready to read (see the module's note), and the sizes glued."""
    models = training_plan.Models(ch.S, ch.run)
    status = models.prepare()
    trained = [r for r in status.values() if r["status"] == "trained"]
    ch.record("trainings", dict(planned=len(status), trained=len(trained), cpu_s=sum(r["cpu_s"] for r in trained),
                                jobs={key: r for key, r in status.items() if r["status"] == "trained"}))
    S = ch.S
    ch.glue(**{name: S[name] for name in ("width", "iterations", "sigma_iterations", "batch", "lr", "image_size",
                                          "photo_size", "alexnet_size", "train_images", "eval_images", "curve_images",
                                          "eval_every", "replicates", "classifier_iterations", "classifier_batch",
                                          "test_images")},
            weight_decay=f"{S.weight_decay:.2g}", window=max(1, S.iterations // 30),
            scale_images=inversion.SCALE_IMAGES,
            domain="ImageNet" if classifiers.on_imagenet(S) else "Fashion-MNIST",
            photos="ImageNet" if classifiers.on_imagenet(S) else "crops of the embedded training photographs",
            knob_widths=", ".join(f"{w:g}" for w in S.knob_widths), planned_models=len(status))
    return Study(ch, models)


# --- the trained encoders -------------------------------------------------------------------------------------


def classifier_figure(study: Study):
    """The trained encoders: offline, each classifier's test accuracy along its training (the snapshots marked);
    at the paper profile, torchvision's top-1 accuracies. Glues ``accuracy_<architecture>`` and records each
    classifier's information (``weights_verified`` at the paper profile)."""
    import matplotlib.pyplot as plt

    ch, S = study.ch, study.sizes
    found = {a: study.models.classifier(a)[2] for a in ARCHITECTURES}
    fig, ax = plt.subplots(figsize=(5.6, 3.2))
    if classifiers.on_imagenet(S):
        ax.barh(list(found), [100 * info["test_accuracy"] for info in found.values()], color=["C0", "C1"])
        ax.set_xlabel("ImageNet top-1 accuracy (%), as torchvision reports it")
        ch.record("weights_verified", {a: info["verified"] for a, info in found.items()})
    else:
        widths = [w for a, w in training_plan.classifier_widths(S) if a == "vgg16" and w is not None]
        curves = {f"{a} width {S.width:g}": info for a, info in found.items()}
        curves.update({f"vgg16 width {w:g}": study.models.classifier("vgg16", w)[2] for w in widths})
        for label, info in curves.items():
            (line,) = ax.plot(info["curve"]["iterations"], [100 * a for a in info["curve"]["accuracy"]], marker="o",
                              ms=2.5, label=f"{label} ({100 * info['test_accuracy']:.1f} %)")
        for count in S.classifier_snapshots:
            ax.axvline(count, color="0.6", lw=0.8, ls=":")
        ax.set_xlabel("iterations (dotted: the kept snapshots)")
        ax.set_ylabel(f"test accuracy (%), {found['vgg16']['curve']['images']:,} images")
        ax.legend(fontsize=7)
        ch.record("classifiers", {k: {n: v for n, v in i.items() if n != "normalize"} for k, i in curves.items()})
    ax.grid(alpha=0.3)
    fig.tight_layout()
    ch.glue(**{f"accuracy_{a}": 100 * info["test_accuracy"] for a, info in found.items()},
            classifier_dataset=found["vgg16"]["dataset"].split(" (")[0])
    return fig


# --- Fig. 5a: Conv2-DeConv2 ---------------------------------------------------------------------------------------


def loss_curves(inversions: dict[str, inversion.Inversion], window: int, ax=None, title: str | None = None):
    """Each inversion's training loss per iteration (per pixel, trailing mean over ``window`` iterations; a line)
    and held-out loss (per pixel, at its evaluation points; markers of the same colour), log scale."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.6, 3.5))
    for label, inv in inversions.items():
        train = [v / inv.pixels for v in inversion.smooth(inv.history["train"], window)]
        (line,) = ax.plot(range(1, len(train) + 1), train, lw=1.2, label=label)
        ax.plot(inv.history["evaluated_at"], [v / inv.pixels for v in inv.history["held_out"]], "o", ms=3,
                color=line.get_color())
    ax.set_xlabel("iteration"), ax.set_ylabel("squared error per pixel")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.tight_layout()
    return ax.figure


def fig5a(study: Study):
    """Fig. 5a: the Conv2-DeConv2 training curves of VGG16 and AlexNet, random and trained (replicate 0)."""
    runs = {f"{a} {kind}": study.dcn(DCN(a, "conv2", kind)) for a in ARCHITECTURES for kind in inversion.ENCODERS}
    study.ch.record("fig5a_curves", {label: dict(train=inv.history["train"], held_out=inv.history["held_out"],
                                                 evaluated_at=inv.history["evaluated_at"], pixels=inv.pixels)
                                     for label, inv in runs.items()})
    return loss_curves(runs, study.window(), title="Conv2-DeConv2")


def per_pixel_losses(study: Study) -> dict:
    """``vgg16_loss_below_alexnet``'s inputs: the held-out loss per pixel of Conv2-DeConv2, VGG16 and AlexNet,
    paired by encoder kind and replicate."""
    losses = {a: [study.dcn(DCN(a, "conv2", kind, replicate=r)).evaluations["held_out"] / study.dcn(
        DCN(a, "conv2", kind, replicate=r)).pixels for kind in inversion.ENCODERS for r in study.replicates]
        for a in ARCHITECTURES}
    study.ch.glue(**{f"per_pixel_{a}": float(np.mean(v)) for a, v in losses.items()})
    return dict(vgg16_per_pixel=losses["vgg16"], alexnet_per_pixel=losses["alexnet"],
                pairs=[f"{kind} {r}" for kind in inversion.ENCODERS for r in study.replicates])


def iterations_to_level(curve: list[float], level: float, window: int) -> int:
    """The first iteration at which the trailing mean (over ``window``) of ``curve`` is at most ``level`` (the
    curve's length if never)."""
    for i, value in enumerate(inversion.smooth(curve, window), start=1):
        if value <= level:
            return i
    return len(curve)


def conv2_comparison(study: Study, width: float | None = None, classifier_iterations: int | None = None) -> dict:
    """The inputs of ``conv2_random_below_trained`` and ``random_dcn_converges_faster`` at one point of their
    knobs: per replicate, the held-out losses of VGG16 Conv2's DCN on the random and the trained encoder, and the
    iterations each takes to reach 1.1× the higher of the two final training losses (a level both reach)."""
    measured = {name: [] for name in ("random_held_out", "trained_held_out", "random_iterations",
                                      "trained_iterations")}
    for r in study.replicates:
        pair = (study.dcn(DCN("vgg16", "conv2", "random", replicate=r, width=width)),
                study.dcn(DCN("vgg16", "conv2", "trained", replicate=r, width=width,
                              classifier_iterations=classifier_iterations)))
        tenth = max(1, len(pair[0].history["train"]) // 10)
        level = CONVERGENCE_LEVEL * max(float(np.mean(inv.history["train"][-tenth:])) for inv in pair)
        for kind, inv in zip(inversion.ENCODERS, pair):
            measured[f"{kind}_held_out"].append(inv.evaluations["held_out"])
            measured[f"{kind}_iterations"].append(iterations_to_level(inv.history["train"], level, study.window()))
    return dict(measured, width=study.sizes.width if width is None else width,
                classifier_iterations=classifier_iterations)


def conv2_knobs(study: Study) -> dict[str, tuple[str, list, list[dict]]]:
    """:func:`conv2_comparison` along each knob: the widths of ``knob_widths`` and the classifier's training
    length (0, the kept snapshots and all of it — offline only)."""
    S = study.sizes
    widths = list(S.knob_widths)
    knobs = {"width": ("width", widths, [conv2_comparison(study, width=None if w == S.width else w)
                                         for w in widths])}
    random = float(np.mean(knobs["width"][2][widths.index(S.width)]["random_held_out"])) if S.width in widths \
        else float("nan")
    along = "not measured at this profile (the trained encoder's training is not ours)"
    knobs["training"] = None  # at the paper profile the trained encoder is torchvision's: no training of ours
    if not classifiers.on_imagenet(S):
        counts = [0, *S.classifier_snapshots]
        knobs["training"] = ("iterations of the classifier's training", counts + [S.classifier_iterations],
                             [conv2_comparison(study, classifier_iterations=c) for c in counts]
                             + [conv2_comparison(study)])
        along = ", ".join(f"{np.mean(m['trained_held_out']):.1f} after {c} iterations"
                          for c, m in zip(knobs["training"][1], knobs["training"][2]))
    study.ch.glue(trained_loss_along_training=along, random_conv2_loss=random)
    return knobs


def along_training(runs: list[inversion.Inversion], measure) -> dict[str, tuple[str, list, list[dict]]]:
    """A claim's inputs along the DCNs' training, for its scale figure: ``measure(i)`` (computed from the held-out
    losses at the training curves' i-th evaluation, on ``curve_images`` images) at the evaluations after about a
    quarter, a half, three quarters and all of the training (``runs``: any of the DCNs, which share their
    evaluation points; the knob's values are the iterations done before each)."""
    evaluated = runs[0].history["evaluated_at"]
    picks = sorted({max(0, len(evaluated) * q // 4 - 1) for q in (1, 2, 3, 4)})
    iterations = [evaluated[i] - 1 for i in picks]
    return {"iterations": ("iterations of DCN training", iterations, [measure(i) for i in picks])}


def held_out_at(inv: inversion.Inversion, i: int) -> float:
    """``inv``'s held-out loss at its training curve's i-th evaluation."""
    return inv.history["held_out"][i]


def alexnet_knob(study: Study) -> dict[str, tuple[str, list, list[dict]]]:
    """``alexnet_conv3_random_close_to_trained``'s inputs along the DCNs' training (:func:`along_training`)."""
    runs = {kind: [study.dcn(DCN("alexnet", "conv3", kind, replicate=r)) for r in study.replicates]
            for kind in inversion.ENCODERS}
    return along_training(runs["random"], lambda i: {f"log_{kind}": [[math.log(held_out_at(inv, i)) for inv in invs]]
                                                     for kind, invs in runs.items()})


def depth_knob(study: Study) -> dict[str, tuple[str, list, list[dict]]]:
    """``trained_random_ratio_grows_with_depth``'s inputs along the DCNs' training (:func:`along_training`)."""
    pairs = [[(study.dcn(DCN("vgg16", layer, "random", replicate=r)), study.dcn(DCN("vgg16", layer, "trained",
                                                                                    replicate=r)))
              for r in study.replicates] for layer in LAYERS]
    return along_training([pairs[0][0][0]], lambda i: dict(
        layer=list(range(1, len(LAYERS) + 1)),
        log_ratio=[[math.log(held_out_at(t, i) / held_out_at(r, i)) for r, t in row] for row in pairs]))


def distribution_knob(runs: dict) -> dict[str, tuple[str, list, list[dict]]]:
    """``distributions_within_1.5x``'s inputs along the DCNs' training (:func:`along_training`)."""
    first = next(iter(runs.values()))
    return along_training(first, lambda i: dict(held_out={d: [held_out_at(inv, i) for inv in invs]
                                                          for d, invs in runs.items()}))


# --- Fig. 5's table: generalization ----------------------------------------------------------------------------


def generalization(study: Study) -> dict:
    """Fig. 5's table: the mean loss per image on ``eval_images`` training and held-out images of every DCN of the
    table (VGG16 Conv1…Conv5 and AlexNet Conv3, random and trained, every replicate). Records it, glues it as the
    table ``he-generalization-table`` and returns ``{(architecture, layer, kind): {"train": […], "held_out": […]}}``."""
    rows = [("vgg16", layer) for layer in LAYERS] + [("alexnet", "conv3")]
    losses = {}
    for a, layer in rows:
        for kind in inversion.ENCODERS:
            runs = [study.dcn(DCN(a, layer, kind, replicate=r)).evaluations for r in study.replicates]
            losses[a, layer, kind] = {split: [run[split] for run in runs] for split in ("train", "held_out")}
    study.ch.record("generalization", {" ".join(k): v for k, v in losses.items()})
    table = []
    for a, layer in rows:
        means = {(kind, split): float(np.mean(losses[a, layer, kind][split])) for kind in inversion.ENCODERS
                 for split in ("train", "held_out")}
        ratio = means["trained", "held_out"] / means["random", "held_out"]
        table.append({"architecture": a, "layer": f"Conv{layer[-1]}",
                      **{f"{kind} {split.replace('_', '-')}": f"{value:.1f}" for (kind, split), value in means.items()},
                      "trained / random (held-out)": f"{ratio:.2f}"})
    study.ch.table("he-generalization-table", table)
    return losses


def depth_ratios(losses: dict) -> dict:
    """``trained_random_ratio_grows_with_depth``'s inputs: K and, per K and replicate, log(trained / random)
    held-out loss of VGG16's ConvK DCNs (the pair of a replicate shares its DCN seed)."""
    ratios = [[math.log(t / r) for t, r in zip(losses["vgg16", layer, "trained"]["held_out"],
                                                losses["vgg16", layer, "random"]["held_out"])] for layer in LAYERS]
    return dict(layer=list(range(1, len(LAYERS) + 1)), log_ratio=ratios)


def alexnet_conv3(losses: dict) -> dict:
    """``alexnet_conv3_random_close_to_trained``'s inputs: the log held-out losses of AlexNet's Conv3 DCNs."""
    return dict(log_trained=[[math.log(v) for v in losses["alexnet", "conv3", "trained"]["held_out"]]],
                log_random=[[math.log(v) for v in losses["alexnet", "conv3", "random"]["held_out"]]])


def generalization_gaps(losses: dict) -> dict:
    """``dcns_generalize``'s inputs: log(held-out / training loss) of every DCN of the table."""
    return dict(log_gap=[math.log(h / t) for runs in losses.values() for h, t in zip(runs["held_out"], runs["train"])])


def generalization_figure(study: Study, losses: dict):
    """Fig. 5's table drawn: VGG16's held-out loss per K for both encoders (every replicate, means joined), and the
    trained/random ratio per K (every replicate)."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.4))
    ks = np.arange(1, len(LAYERS) + 1)
    for i, kind in enumerate(inversion.ENCODERS):
        values = np.array([losses["vgg16", layer, kind]["held_out"] for layer in LAYERS])
        left.plot(np.repeat(ks, values.shape[1]) + 0.06 * (2 * i - 1), values.ravel(), "o", ms=3, color=f"C{i}")
        left.plot(ks, values.mean(1), color=f"C{i}", label=f"{kind} encoder")
    ratios = np.exp(np.array(depth_ratios(losses)["log_ratio"]))
    right.plot(np.repeat(ks, ratios.shape[1]), ratios.ravel(), "o", ms=3, color="C2")
    right.plot(ks, np.exp(np.log(ratios).mean(1)), color="C2")
    right.axhline(1.0, color="0.5", lw=0.8)
    left.set_yscale("log"), left.set_ylabel("held-out loss per image (SSE)")
    right.set_ylabel("trained / random held-out loss")
    for ax in (left, right):
        ax.set_xticks(ks, [f"Conv{k}" for k in ks]), ax.grid(alpha=0.3)
    left.legend(fontsize=8)
    fig.tight_layout()
    return fig


def domain_reconstructions(study: Study, count: int = 2):
    """Held-out images of the classifier's domain reconstructed from Conv1…Conv5 of the random and the trained
    VGG16 (replicate 0)."""
    images = inversion.image_sets(study.sizes, "vgg16", "domain", study.ch.seed, study.ch.data_dir)[1].first(count)
    outputs = {kind: [study.dcn(DCN("vgg16", layer, kind)).reconstruct(images) for layer in LAYERS]
               for kind in inversion.ENCODERS}
    rows = [[images[i]] + [out[i] for out in outputs[kind]] for i in range(len(images)) for kind in outputs]
    labels = [f"{kind}, image {i + 1}" for i in range(len(images)) for kind in outputs]
    return figures.image_grid(rows, titles=["input"] + [f"Conv{layer[-1]}" for layer in LAYERS], row_labels=labels,
                              size=1.5)


# --- Fig. 5b: the Gaussian σ sweep on raw features ---------------------------------------------------------------


def homogeneity(study: Study, images: int = 8) -> float:
    """The largest difference between the RMS-normalised Conv2 features of the sweep's Gaussian encoders (one seed,
    every σ, and σ = 1): zero up to rounding by the lemma of positive homogeneity."""
    S = study.sizes
    x = inversion.image_sets(S, "vgg16", "domain", study.ch.seed, study.ch.data_dir)[0].first(images)
    layers = architectures.cut(architectures.architecture("vgg16", width=S.width), "conv2")
    features = [inversion.unit_rms(inversion.random_encoder("vgg16", layers, seed=0, sigma=sigma), x)[0](x)
                for sigma in (1.0, *random_weights.GAUSSIAN_SIGMAS)]
    deviation = max(float((f - features[0]).abs().max()) for f in features)
    study.ch.record("homogeneity_max_deviation", deviation)
    study.ch.glue(homogeneity_deviation=deviation, homogeneity_images=images,
                  homogeneity_epsilons=deviation / float(np.finfo(np.float32).eps))
    return deviation


def sigma_runs(study: Study) -> dict[float, list[inversion.Inversion]]:
    """The σ sweep's DCNs: per σ, every replicate."""
    S = study.sizes
    return {sigma: [study.dcn(DCN("vgg16", "conv2", sigma=sigma, raw=True, replicate=r,
                                  iterations=S.sigma_iterations)) for r in study.replicates]
            for sigma in random_weights.GAUSSIAN_SIGMAS}


def fig5b(study: Study, runs: dict):
    """Fig. 5b: training curves of the σ sweep on raw features (replicate 0), and its table (glued as
    ``he-fig5b-table``: the raw features' RMS, the mean loss over the first and the last tenth of training,
    averaged over replicates)."""
    S = study.sizes
    first = {sigma: inv[0] for sigma, inv in runs.items()}
    tenth = max(1, S.sigma_iterations // 10)
    x = inversion.image_sets(S, "vgg16", "domain", study.ch.seed, study.ch.data_dir)[0].first(64)
    rows = [dict(sigma=f"{sigma:g}", feature_rms=f"{inversion.unit_rms(first[sigma].encoder, x)[1]:.1e}",
                 early=f"{np.mean([np.mean(i.history['train'][:tenth]) for i in invs]):.0f}",
                 final=f"{np.mean([np.mean(i.history['train'][-tenth:]) for i in invs]):.1f}")
            for sigma, invs in runs.items()]
    study.ch.table("he-fig5b-table", rows)
    study.ch.record("fig5b_curves", {f"{s:g}": [i.history["train"] for i in invs] for s, invs in runs.items()})
    study.ch.glue(tenth=tenth)
    return loss_curves({f"σ = {sigma:g}": inv for sigma, inv in first.items()}, study.window(S.sigma_iterations),
                       title="Conv2-DeConv2, raw features, Gaussian σ")


def sigma_measurements(study: Study, runs: dict, iterations: int | None = None) -> dict:
    """The inputs of the σ sweep's claims after ``iterations`` (default: all) of its runs: per replicate, the log
    max/min over σ of the mean training loss over the tenth of training ending there, half that of the first
    tenth, and the lowest such loss among σ ∈ {0.01, 0.015, 0.02} and among the other σ."""
    S = study.sizes
    end, tenth = iterations or S.sigma_iterations, max(1, S.sigma_iterations // 10)
    measured = {name: [] for name in ("final_log_spread", "half_initial_log_spread", "near_0015", "elsewhere")}
    for r in study.replicates:
        initial = {s: float(np.mean(invs[r].history["train"][:tenth])) for s, invs in runs.items()}
        final = {s: float(np.mean(invs[r].history["train"][max(0, end - tenth):end])) for s, invs in runs.items()}
        measured["final_log_spread"].append(math.log(max(final.values()) / min(final.values())))
        measured["half_initial_log_spread"].append(0.5 * math.log(max(initial.values()) / min(initial.values())))
        measured["near_0015"].append(min(v for s, v in final.items() if s in NEAR_SIGMAS))
        measured["elsewhere"].append(min(v for s, v in final.items() if s not in NEAR_SIGMAS))
    lowest = [min(runs, key=lambda s: np.mean(runs[s][r].history["train"][max(0, end - tenth):end]))
              for r in study.replicates]
    return dict(measured, iterations=end, lowest_sigma=lowest)


def sigma_knob(study: Study, runs: dict) -> dict[str, tuple[str, list, list[dict]]]:
    """:func:`sigma_measurements` after ¼, ½, ¾ and all of the σ sweep's iterations."""
    S = study.sizes
    ends = sorted({max(1, S.sigma_iterations * q // 4) for q in (1, 2, 3, 4)})
    return {"iterations": ("iterations of DCN training", ends, [sigma_measurements(study, runs, end) for end in ends])}


# --- Fig. 5c and Fig. 6: four distributions --------------------------------------------------------------------


def distribution_runs(study: Study) -> dict[str, list[inversion.Inversion]]:
    photos = inversion.natural_domain(study.sizes)
    return {d: [study.dcn(DCN("vgg16", "conv2", domain=photos, distribution=d, replicate=r))
                for r in study.replicates] for d in random_weights.DISTRIBUTIONS}


def fig5c(study: Study, runs: dict):
    """Fig. 5c: training curves of the four distributions' DCNs on photographs (replicate 0)."""
    study.ch.record("fig5c_held_out", {d: [i.evaluations["held_out"] for i in invs] for d, invs in runs.items()})
    return loss_curves({d: invs[0] for d, invs in runs.items()}, study.window(),
                       title="Conv2-DeConv2, four distributions")


def distribution_losses(runs: dict) -> dict:
    """``distributions_within_1.5x``'s input: per distribution, the replicates' held-out losses."""
    return dict(held_out={d: [i.evaluations["held_out"] for i in invs] for d, invs in runs.items()})


def fig6(study: Study, runs: dict):
    """Fig. 6: the cat (never seen in training) through random VGG16 Conv2 and its DCN, one per distribution
    (replicate 0), with the SSIM of each reconstruction (§4's measure, :func:`rdcn.core.metrics.quality`)."""
    size = classifiers.image_size("vgg16", study.sizes, inversion.natural_domain(study.sizes))
    cat = data.photos(data.HELD_OUT[:1], size)
    outputs = {d: invs[0].reconstruct(cat) for d, invs in runs.items()}
    ssim = {d: float(metrics.quality(out, cat)[0][0]) for d, out in outputs.items()}
    study.ch.record("fig6_ssim", ssim)
    return figures.image_grid([[cat[0]] + [out[0] for out in outputs.values()]],
                              titles=["input"] + [f"{d}\nSSIM {ssim[d]:.2f}" for d in outputs], size=2.0)


# --- Reconstructions from Conv1 to Conv5 -------------------------------------------------------------------------


def reconstructions(study: Study, architecture: str):
    """The held-out photographs reconstructed from Conv1…Conv5 of a random ``architecture`` (one DCN per layer);
    records their SSIM and glues ``ssim_<architecture>_<layer>`` (means over the photographs)."""
    photos = inversion.natural_domain(study.sizes)
    images = data.photos(data.HELD_OUT, classifiers.image_size(architecture, study.sizes, photos))
    outputs = [study.dcn(DCN(architecture, layer, domain=photos)).reconstruct(images) for layer in LAYERS]
    ssim = {layer: metrics.quality(out, images)[0].tolist() for layer, out in zip(LAYERS, outputs)}
    study.ch.record(f"reconstruction_ssim_{architecture}", ssim)
    study.ch.glue(**{f"ssim_{architecture}_{layer}": float(np.mean(v)) for layer, v in ssim.items()})
    rows = [[images[i]] + [out[i] for out in outputs] for i in range(len(images))]
    return figures.image_grid(rows, titles=["input"] + [f"Conv{layer[-1]}" for layer in LAYERS],
                              row_labels=list(data.HELD_OUT), size=1.6)


# --- claims along their scale ----------------------------------------------------------------------------------


def scale_figures(claim_id: str, knobs: dict[str, tuple[str, list, list[dict]] | None]) -> dict[str, object]:
    """A claim's statistic with its 95 % interval along each of its ``knobs`` (name → (label, values, the claim's
    measurements at each value), or None where the knob does not exist at this profile), decided at each value by
    the claim's own rule and drawn by :func:`rdcn.core.figures.scale_figure`: ``scale-<id>`` for the first knob,
    ``scale-<id>-<name>`` for others."""
    claim = claim_of(claim_id)
    found = {}
    for i, (name, knob) in enumerate(knobs.items()):
        if knob is None:
            found[f"scale-{claim_id}" + (f"-{name}" if i else "")] = figures.not_measured(
                f"this knob ({name}) does not exist at this profile")
            continue
        label, values, measured = knob
        verdicts = claim.along(measured)
        found[f"scale-{claim_id}" + (f"-{name}" if i else "")] = figures.scale_figure(
            label, list(range(len(values))), verdicts, _statistic_name(claim.rule), _claimed(claim.rule),
            tick_labels=[f"{v:g}" for v in values])
    return found


def _claimed(rule) -> tuple[float, float]:
    """Where the statistic must lie for the claim to hold (the rule's claimed side or range)."""
    if isinstance(rule, Spread):
        return 1.0, rule.factor
    if isinstance(rule, Equivalent):
        return -rule.margin, rule.margin
    lower = (isinstance(rule, PairedDifference) and rule.alternative == "less") or (
        isinstance(rule, Trend) and rule.direction == "decreasing")
    return (-math.inf, 0.0) if lower else (0.0, math.inf)


def _statistic_name(rule) -> str:
    if isinstance(rule, Equivalent):
        return f"mean {rule.a} − {rule.b}"
    if isinstance(rule, PairedDifference):
        return f"mean log({rule.a} / {rule.b})" if rule.log else f"mean {rule.a} − {rule.b}"
    if isinstance(rule, Trend):
        return f"Spearman ρ of {rule.y} against {rule.x}"
    if isinstance(rule, Spread):
        return "max / min of the group means"
    return "statistic"


def claims_table(ch) -> None:
    """Glue ``claims-summary``: every claim of the chapter, where in the paper, and its verdict at this run."""
    rows = [dict(claim=f"{claim.statement}", where=claim.where, designed_for=", ".join(claim.designed_for),
                 verdict=ch.results.claims[claim.id]["verdict"]["state"] if claim.id in ch.results.claims else "—")
            for claim in of_chapter(ch.name)]
    ch.table("claims-summary", rows, ["claim", "where", "designed_for", "verdict"])

