"""DCN training (rdcn.training): loss, determinism, checkpoint and resume."""
import pytest
import torch

from rdcn.core import architectures, cache, random_weights, training

LAYERS = architectures.cut(architectures.architecture("vgg16", width=1 / 16), "conv2")
SCHEDULE = training.Schedule(iterations=6, batch=3, lr=1e-3, weight_decay=1e-4, eval_every=2, checkpoint_every=2)


def _problem(seed=0):
    images = torch.rand(10, 3, 16, 16, generator=torch.Generator().manual_seed(seed))
    encoder = random_weights.randomize_(architectures.build_encoder(LAYERS), "gaussian", 0, sigma=0.2)
    return encoder, architectures.build_decoder(LAYERS), images[:7], images[7:]


def _weights(module):
    return [t.clone() for t in module.state_dict().values()]


def _same(a, b):
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def test_sse_is_the_per_image_sum_of_squares():
    a, b = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    b[1] *= 2
    assert training.sse(a, b).tolist() == [48.0, 192.0]
    with pytest.raises(ValueError, match="differ in shape"):
        training.sse(a, b[:, :1])


def test_history_lengths_and_training_lowers_the_loss():
    encoder, decoder, train, held = _problem()
    schedule = training.Schedule(40, 4, 3e-3, 0.0, eval_every=10, checkpoint_every=100)
    history = training.train_dcn(encoder, decoder, train, held, schedule, seed=0)
    assert len(history["train"]) == 40 and history["evaluated_at"] == [1, 11, 21, 31]
    assert sum(history["train"][-5:]) < sum(history["train"][:5])


@pytest.mark.parametrize("readback", [1, 3, 1000])
def test_the_losses_read_back_in_blocks_are_each_iterations_loss(monkeypatch, readback):
    """The history holds every iteration's mini-batch loss, in order, however many wait on the device."""
    monkeypatch.setattr(training, "LOSS_READBACK", readback)
    model = torch.nn.Linear(1, 1)
    x = torch.linspace(-1, 1, 8)[:, None]
    seen = []

    def loss(index):
        value = (model(x[index]) - 2 * x[index]).pow(2).mean()
        seen.append(value.item())
        return value

    schedule = training.Schedule(iterations=7, batch=2, lr=0.1, eval_every=5)
    history = training.fit(dict(model=model), loss, len(x), schedule, torch.Generator().manual_seed(0),
                           evaluate=lambda: dict(zero=0.0))
    assert history["train"] == seen and len(seen) == 7 and history["evaluated_at"] == [1, 6]


def test_same_seed_same_weights_other_seed_other_weights():
    runs = []
    for seed in (0, 0, 1):
        encoder, decoder, train, held = _problem()
        training.train_dcn(encoder, decoder, train, held, SCHEDULE, seed=seed)
        runs.append(_weights(decoder))
    assert _same(runs[0], runs[1]) and not _same(runs[0], runs[2])


def test_an_interrupted_run_resumes_to_the_same_final_weights(tmp_path):
    encoder, decoder, train, held = _problem()
    reference = training.train_dcn(encoder, decoder, train, held, SCHEDULE, seed=0)
    expected = _weights(decoder)

    class Interrupt(Exception):
        pass

    def stop_at_5(i):
        if i == 5:
            raise Interrupt

    path = tmp_path / "run.pt"
    encoder, decoder, train, held = _problem()
    with pytest.raises(Interrupt):
        training.train_dcn(encoder, decoder, train, held, SCHEDULE, seed=0, checkpoint=path, callback=stop_at_5)
    assert cache.load(path)["iteration"] == 4  # the last checkpoint before the interruption
    encoder, decoder, train, held = _problem()
    seen = []
    history = training.train_dcn(encoder, decoder, train, held, SCHEDULE, seed=0, checkpoint=path,
                                 callback=seen.append)
    assert seen == [5, 6]  # resumed after the checkpoint, lost nothing
    assert _same(_weights(decoder), expected) and history == reference
    assert all(type(i) is int for i in history["evaluated_at"])  # ints after a resume as when fresh


def test_a_finished_checkpoint_is_the_cached_model(tmp_path):
    path = tmp_path / "run.pt"
    encoder, decoder, train, held = _problem()
    first = training.train_dcn(encoder, decoder, train, held, SCHEDULE, seed=0, checkpoint=path)
    encoder, again, train, held = _problem()
    second = training.train_dcn(encoder, again, train, held, SCHEDULE, seed=0, checkpoint=path,
                                callback=lambda i: pytest.fail("retrained a finished run"))
    assert first == second and _same(_weights(decoder), _weights(again))


def test_a_corrupt_checkpoint_is_reported_and_the_run_starts_over(tmp_path):
    encoder, decoder, train, held = _problem()
    training.train_dcn(encoder, decoder, train, held, SCHEDULE, seed=0)
    expected = _weights(decoder)
    path = tmp_path / "run.pt"
    path.write_bytes(b"\x00garbage")
    encoder, decoder, train, held = _problem()
    with pytest.warns(cache.CorruptCacheWarning, match="run.pt"):
        training.train_dcn(encoder, decoder, train, held, SCHEDULE, seed=0, checkpoint=path)
    assert _same(_weights(decoder), expected)


def test_a_checkpoint_of_another_model_is_reported_and_replaced(tmp_path):
    path = tmp_path / "run.pt"
    cache.save(path, {"decoder": {"w": torch.zeros(1)}, "iteration": 2})
    encoder, decoder, train, held = _problem()
    with pytest.warns(cache.CorruptCacheWarning):
        training.train_dcn(encoder, decoder, train, held, SCHEDULE, seed=0, checkpoint=path)
    assert cache.load(path)["iteration"] == SCHEDULE.iterations


class _Images:
    """A dataset with ``batch(indices)`` (as rdcn.core.data's image folders and crops are)."""

    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def batch(self, indices):
        return self.x[indices]


def test_features_are_held_only_for_a_tensor_that_fits_and_is_read_whole(monkeypatch):
    encoder, _, train, _ = _problem()
    assert training.EncodedImages(encoder, train, "cpu", draws=len(train)).features is not None
    assert training.EncodedImages(encoder, train, "cpu", draws=len(train) - 1).features is None
    assert training.EncodedImages(encoder, _Images(train), "cpu", draws=10**6).features is None
    monkeypatch.setattr(training, "FEATURE_BYTES", 0)
    assert training.EncodedImages(encoder, train, "cpu", draws=10**6).features is None


@pytest.mark.parametrize("per_batch", ["dataset", "too large"])
def test_features_held_once_train_as_features_computed_per_batch(monkeypatch, per_batch):
    """Two code paths (features computed once and indexed; each mini-batch encoded as drawn): the same training,
    to float32 rounding."""
    encoder, held_once, train, held = _problem()
    reference = training.train_dcn(encoder, held_once, train, held, SCHEDULE, seed=0)
    encoder, per_draw, train, held = _problem()
    if per_batch == "dataset":
        train = _Images(train)
    else:
        monkeypatch.setattr(training, "FEATURE_BYTES", 0)
    history = training.train_dcn(encoder, per_draw, train, held, SCHEDULE, seed=0)
    assert history["evaluated_at"] == reference["evaluated_at"]
    for key in ("train", "held_out"):
        assert history[key] == pytest.approx(reference[key], rel=1e-5)
    for a, b in zip(_weights(held_once), _weights(per_draw)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
