"""Gilbert et al. (2017): random-filter CNNs as model-based compressive sensing. Depends on :mod:`rdcn.core` only.

:mod:`.compressive_sensing` (model-RIP, model projection, IHT), :mod:`.cnn_iht` (IHT on a VGG encoder, activation
density, coherence), :mod:`.random_filter_classifier` (random vs learned filters for classification).
"""
