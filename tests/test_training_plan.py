"""Chapter 2's plan of trainings (rdcn.he.training_plan): what it lists, its table, the make targets' command, the
paper profile's read-only notebook, and the notebook at smoke asking for exactly the planned models."""
import os
from pathlib import Path

import pytest

from rdcn.core import jobs, profiles
from rdcn.core.runs import Run
from rdcn.he import training_plan
from rdcn.he.inversion import DCN

CHAPTER = "random_cnn_trained_dcn"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_random_cnn_trained_dcn.md"


def test_the_plan_lists_every_group_once_classifiers_first():
    sizes = profiles.sizes(CHAPTER, "book")
    planned = training_plan.plan(sizes, count_flops=False)
    keys = [job.key for job in planned]
    assert len(keys) == len(set(keys))
    dcns = training_plan.dcns(sizes)
    assert len(planned) == len(dcns) + len(training_plan.classifier_widths(sizes))
    for group in training_plan.GROUPS.values():
        assert set(group(sizes)) <= set(dcns)
    position = {key: i for i, key in enumerate(keys)}
    for job in planned:
        assert all(position[need] < position[job.key] for need in job.needs)
    assert DCN("vgg16", "conv2", "trained", width=0.0625) in dcns and ("vgg16", 0.0625) in \
        training_plan.classifier_widths(sizes)
    assert sum(d.classifier_iterations is not None for d in dcns) == (1 + len(sizes.classifier_snapshots)) * 3


def test_the_paper_plan_uses_imagenet_and_trains_no_classifier():
    sizes = profiles.sizes(CHAPTER, "paper")
    dcns = training_plan.dcns(sizes)
    assert training_plan.classifier_widths(sizes) == [] and training_plan.training_knob(sizes) == []
    assert {d.domain for d in dcns} == {"domain"} and {d.width for d in dcns} == {None}
    assert {d.iterations for d in dcns} == {None, sizes.sigma_iterations}


def test_the_table_estimates_gpu_time_from_flops(monkeypatch):
    sizes = profiles.sizes(CHAPTER, "smoke")
    planned = training_plan.plan(sizes)
    rows, totals = training_plan.table(planned)
    rate = training_plan.REFERENCE_GPU.flops
    for row, job in zip(rows, planned):
        assert row["gpu_hours"] == pytest.approx(job.steps * job.flops_per_step / rate / 3600)
    assert totals["gpu_hours"] == pytest.approx(sum(r["gpu_hours"] for r in rows))
    assert totals["jobs"] == len(planned) == totals["missing"]
    text = training_plan.format_table(rows, totals)
    assert planned[0].key in text and "GPU hours" in text and "N=8" in text


def test_make_plan_prints_the_table_and_bad_settings_are_errors(capsys, monkeypatch):
    monkeypatch.setenv("RDCN_PROFILE", "smoke")
    training_plan.main(["plan"])
    out = capsys.readouterr().out
    assert "trainings (" in out and "classifier vgg16" in out
    with pytest.raises(ValueError, match="engine must be one of"):
        training_plan.main(["train", "--engine", "slurm"])
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        training_plan.main(["train", "--workers", "0"])


def test_the_paper_plan_lists_without_data_or_weights(capsys, monkeypatch, tmp_path):
    """`make plan PROFILE=paper` on a machine without ImageNet or torchvision's weights: every training, its FLOPs
    and GPU hours; the cache keys, which name the data folder, are said to need DATA_DIR."""
    monkeypatch.setenv("RDCN_PROFILE", "paper")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    training_plan.main(["plan"])
    out = capsys.readouterr().out
    planned = len(training_plan.dcns(profiles.sizes(CHAPTER, "paper")))
    assert f"{planned} trainings ({planned} not cached)" in out and "GPU hours" in out
    assert "(given DATA_DIR)" in out and "pass DATA_DIR" in out


def test_at_the_paper_profile_a_missing_model_names_the_train_command(tmp_path):
    run = Run.of("paper", data_dir=str(tmp_path), sizes={CHAPTER: dict(image_size=32, alexnet_size=64)})
    models = training_plan.Models(profiles.sizes(CHAPTER, "paper", image_size=32, alexnet_size=64), run)
    models.plan = lambda: [jobs.Job("dcn-missing", "vgg16 conv2 random domain", "m:f")]
    with pytest.raises(FileNotFoundError, match=r"make train PROFILE=paper DATA_DIR=.* WORKERS=<N>"):
        models.prepare()


def _notebook_code() -> list[str]:
    import jupytext

    cells = jupytext.read(NOTEBOOK).cells
    return [c.source for c in cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]


def test_the_smoke_notebook_reads_exactly_the_planned_models(monkeypatch):
    """Every model the chapter's code asks for is in the plan (Models refuses any other), and every planned model
    is read: the plan is the notebook's own configuration."""
    monkeypatch.setattr(training_plan, "NOTEBOOK_WORKERS", 0)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = dict(profile="smoke", device="cpu", data_dir="", seed=0, sizes="")
    for source in _notebook_code():
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    models = namespace["study"].models
    planned = {job.key for job in models.plan()}
    assert models.requested == planned
    assert (Path(os.environ["RDCN_RESULTS_DIR"]) / "smoke" / f"{CHAPTER}.json").is_file()
