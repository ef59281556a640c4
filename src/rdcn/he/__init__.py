"""He et al. (2018), and its earlier version Shu et al. (2017): random CNNs and their deconvolutional inverses.

- §2 (chapter 1): :mod:`.preliminaries` — the layer tables, Table 1, the four distributions, a first random net.
- §3 (chapter 2, random CNN, trained DCN): :mod:`.trained_encoder` (the classifiers, their snapshots),
  :mod:`.imagenet_weights` (torchvision's weights, verified), :mod:`.inversion` (one DCN as a job),
  :mod:`.training_plan` (the chapter's trainings, the plan, ``make plan``/``make train``), :mod:`.inversion_figures`
  (its figures, tables and claim measurements).
- §4 (chapter 3, purely random CNN-DCN): :mod:`.batched` (many random networks as one program),
  :mod:`.random_reconstruction` (the networks and the sweep), :mod:`.rrvgg_depth` (Fig. 7), :mod:`.rrvgg_width`
  (Figs. 8–10), :mod:`.rrvgg_kernel` (§4.3), :mod:`.rrvgg_colour` and :mod:`.colour_geometry` (positions kept, colours
  lost).
- §5 and Appendix A (chapter 4, theory): :mod:`.arccos_kernel` (Lemma A.2), :mod:`.theory` (the limit ȳ),
  :mod:`.finite_width` (Theorems 5.2–5.3 measured), :mod:`.bounds` (the bounds with their constants),
  :mod:`.limit_quality` (beyond the paper: max pooling against the ℓ2 limit).
"""
