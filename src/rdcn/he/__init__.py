"""He et al. (2018), and its earlier version Shu et al. (2017): random CNNs and their deconvolutional inverses.

§3 (random CNN, trained DCN): :mod:`.trained_encoder`, :mod:`.inversion`; §4 (purely random CNN-DCN):
:mod:`.batched`, :mod:`.random_reconstruction`; §5 and Appendix A (theory): :mod:`.arccos_kernel`, :mod:`.theory`,
:mod:`.finite_width`.
"""
