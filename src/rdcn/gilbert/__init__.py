"""Gilbert et al. (2017): random-filter CNNs as model-based compressive sensing. Depends on :mod:`rdcn.core` only
(the chapter's notebook wires in what it needs of :mod:`rdcn.he`, chapter 2's trained encoder).

- :mod:`.compressive_sensing` — the model: W as convolutions, 𝓜_k, 𝕄, IHT, model-RIP ratios and constants,
  Thm 3.3's bound, coherence (§2–§4).
- :mod:`.synthetic` — the synthetic experiments of §4.1 (Fig. 3) and the 2-D model-RIP check, with their figures.
- :mod:`.cnn_iht` — a VGG encoder's linear decoder and IHT reconstruction from poolK (§5).
- :mod:`.vgg_reconstruction` — Table 3 (IHT from pool(1)–pool(4), learned vs random) and the random encoders' width.
- :mod:`.layer_statistics` — Tables 2 and 4 (activation density, coherence) and how they move as an encoder learns.
- :mod:`.random_filter_classifier` — Table 1 (classification with random vs learned filters, §4.1).
"""
