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


def test_datasets_with_batch_are_accepted():
    class Images:
        def __init__(self, x):
            self.x = x

        def __len__(self):
            return len(self.x)

        def batch(self, indices):
            return self.x[indices]

    encoder, decoder, train, held = _problem()
    history = training.train_dcn(encoder, decoder, Images(train), held, SCHEDULE, seed=0)
    encoder, decoder2, train, held = _problem()
    assert history == training.train_dcn(encoder, decoder2, train, held, SCHEDULE, seed=0)


@pytest.mark.parametrize("field, value", [("iterations", 0), ("batch", -1), ("eval_every", 1.5), ("lr", 0.0),
                                          ("weight_decay", -1.0)])
def test_bad_schedule_values_are_named(field, value):
    kwargs = dict(iterations=1, batch=1, lr=1e-3, weight_decay=0.0, eval_every=1, checkpoint_every=1)
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        training.Schedule(**kwargs)


def test_empty_image_sets_are_errors():
    encoder, decoder, train, held = _problem()
    with pytest.raises(ValueError, match="at least one image"):
        training.train_dcn(encoder, decoder, train[:0], held, SCHEDULE, seed=0)


def _regression(seed=0):
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(20, 3, generator=g), torch.tensor([1.0, -2.0, 0.5])
    return x, x @ w


@pytest.mark.parametrize("sampling, decay", [("replacement", "constant"), ("epochs", "cosine")])
def test_fit_resumes_mid_epoch_to_the_same_weights(tmp_path, sampling, decay):
    x, y = _regression()
    schedule = training.Schedule(iterations=9, batch=6, lr=0.05, decay=decay, checkpoint_every=2)

    def run(checkpoint=None, callback=None):
        model = torch.nn.Linear(3, 1, bias=False)
        torch.nn.init.zeros_(model.weight)
        history = training.fit(dict(model=model), lambda i: (model(x[i])[:, 0] - y[i]).pow(2).mean(), len(x), schedule,
                               torch.Generator().manual_seed(1), sampling, checkpoint=checkpoint, callback=callback)
        return model.weight.detach().clone(), history

    reference, history = run()
    assert history["train"][-1] < history["train"][0]

    def stop(i):
        if i == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "fit.pt", stop)
    resumed, again = run(tmp_path / "fit.pt")
    assert torch.equal(resumed, reference) and again == history


def test_epochs_visit_every_item_once_per_epoch():
    seen = []
    model = torch.nn.Linear(1, 1)
    schedule = training.Schedule(iterations=training.iterations_per_epoch(10, 4) * 2, batch=4, lr=0.1)
    training.fit(dict(model=model), lambda i: seen.append(i.tolist()) or model(torch.ones(len(i), 1)).sum(), 10,
                 schedule, torch.Generator().manual_seed(0), "epochs")
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]
    assert sorted(sum(seen[:3], [])) == list(range(10)) == sorted(sum(seen[3:], []))


def test_fit_refuses_bad_arguments():
    model = torch.nn.Linear(1, 1)
    schedule = training.Schedule(iterations=1, batch=1, lr=0.1)
    with pytest.raises(ValueError, match="sampling must be one of"):
        training.fit(dict(model=model), lambda i: model.weight.sum(), 3, schedule, torch.Generator(), "shuffle")
    with pytest.raises(ValueError, match="items must be a positive integer"):
        training.fit(dict(model=model), lambda i: model.weight.sum(), 0, schedule, torch.Generator())
    with pytest.raises(ValueError, match="decay must be one of"):
        training.Schedule(iterations=1, batch=1, lr=0.1, decay="step")
