"""rdcn: random-weight convolutional networks and their inversion (He et al.; Shu et al.; Gilbert et al.).

Modules: :mod:`rdcn.profiles` (every experiment's sizes), :mod:`rdcn.architectures` and :mod:`rdcn.layers`
(VGG16 / AlexNet encoders, the mirrored DCN), :mod:`rdcn.random_weights` (the four distributions),
:mod:`rdcn.data` (embedded photographs, image folders), :mod:`rdcn.metrics` (SSIM and Pearson r),
:mod:`rdcn.figures` (plot helpers), :mod:`rdcn.results` (each chapter's numbers and claims).
"""
__version__ = "0.1.0"
