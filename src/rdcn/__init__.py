"""rdcn: random-weight convolutional networks and their inversion (He et al.; Shu et al.; Gilbert et al.).

Foundation: :mod:`rdcn.profiles` (every experiment's sizes), :mod:`rdcn.architectures` and :mod:`rdcn.layers`
(VGG16 / AlexNet encoders, the mirrored DCN), :mod:`rdcn.random_weights` (the four distributions),
:mod:`rdcn.data` (embedded photographs, image folders, Fashion-MNIST), :mod:`rdcn.metrics` (SSIM and Pearson r),
:mod:`rdcn.figures` (plot helpers), :mod:`rdcn.results` (each chapter's numbers and claims), :mod:`rdcn.paths`.

Per chapter: He et al. §3 — :mod:`rdcn.training`, :mod:`rdcn.cache`, :mod:`rdcn.classifier`,
:mod:`rdcn.inversion`; §4 — :mod:`rdcn.batched`, :mod:`rdcn.random_reconstruction`; §5 and Appendix A —
:mod:`rdcn.theory`, :mod:`rdcn.arccos_kernel`, :mod:`rdcn.finite_width`; Gilbert et al. —
:mod:`rdcn.compressive_sensing`, :mod:`rdcn.cnn_iht`, :mod:`rdcn.random_filter_classifier`.
"""
__version__ = "0.1.0"
