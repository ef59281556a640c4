"""rdcn: random-weight convolutional networks and their inversion (He et al.; Shu et al.; Gilbert et al.).

- :mod:`rdcn.core` — what every chapter shares: :mod:`~rdcn.core.profiles` (every size), :mod:`~rdcn.core.runs`
  (a run's parameters and folders), :mod:`~rdcn.core.paths`, :mod:`~rdcn.core.results`, :mod:`~rdcn.core.cache`,
  :mod:`~rdcn.core.data`, :mod:`~rdcn.core.metrics`, :mod:`~rdcn.core.figures`, :mod:`~rdcn.core.operators`,
  :mod:`~rdcn.core.architectures`, :mod:`~rdcn.core.random_weights`, :mod:`~rdcn.core.training` (the one training
  loop), :mod:`~rdcn.core.jobs` (trainings as jobs, local and Ray runners), :mod:`~rdcn.core.seeds` (the one seed
  scheme) and :mod:`~rdcn.core.checks` (argument checks). It imports nothing else of the package.
- :mod:`rdcn.he` — He et al. (2018) and Shu et al. (2017), chapters 1–4.
- :mod:`rdcn.gilbert` — Gilbert et al. (2017), chapter 5; depends on :mod:`rdcn.core` only.
- :mod:`rdcn.claims` — the registry of every claim and the rules that decide them.
- The book on top of them: :mod:`rdcn.notebook` (a chapter's session: its run, sizes, data check, results, claims
  and glue), :mod:`rdcn.book` (executes a run's notebooks and builds its book), :mod:`rdcn.book_html` (the Sphinx
  extension the book uses) and :mod:`rdcn.ledger` (the ledger page).
"""
__version__ = "0.1.0"
