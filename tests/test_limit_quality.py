import torch

from rdcn.core import architectures as arch
from rdcn.he import finite_width as fw
from rdcn.he import limit_quality, theory

CONV1 = arch.cut(arch.architecture("vgg16"), "pool1")
X = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))


def test_limit_ssim_and_the_comparison():
    limits = limit_quality.limit_ssim(CONV1, X)
    assert limits["zero"].shape == limits["nearest"].shape == (2,)
    assert torch.equal(limits["ybar"], theory.limit(theory.variant(CONV1, 1), X))
    assert torch.equal(limits["ybar_nearest"], theory.limit(theory.variant(CONV1, 1, upsample="nearest"), X))
    l2 = fw.sweep("ℓ2", CONV1, (4, 8), 2, X, {"limit": limits["ybar"]}, ssim=True)
    max_pool = fw.sweep("max", CONV1, (4, 8), 2, X, {"limit": limits["ybar"]}, pooling="max", ssim=True)
    values = limit_quality.values(l2, max_pool, limits)
    assert values["ssim_peak_width"] in (4, 8) and values["ssim_limit"] == limits["zero"].mean()
    own, widest = limits["zero"].mean(), (l2.ssim[8].mean(), max_pool.ssim[8].mean())
    assert values["ssim_limit_text"] == ("below" if own < min(widest) else "above" if own > max(widest) else "between")
    assert values["nearest_text"] == ("higher" if limits["nearest"].mean() > limits["zero"].mean() else "not higher")
    assert limit_quality.comparison_figure(l2, max_pool, limits).axes
    assert limit_quality.images_figure(X, l2, max_pool, limits).axes
