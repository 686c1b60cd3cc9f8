"""The four behaviour classes: shared, idiosyncratic, contingent, unexpressed.

Patterns of a model's generations G are set against its training corpus T, both
counted exactly through suffix-array indexes built the same way (G is indexed
with T's own tokenizer):

* **shared**: an n-gram that recurs in the generations (>= k of them) and
  occurs in the corpus;
* **idiosyncratic**: recurs in >= k generations and never occurs in the corpus;
* **unexpressed**: frequent enough in the corpus to be expected >= e_min times
  in the generations, yet never generated (Poisson p < alpha);
* **contingent**: a trigger context in both, after which the model's dominant
  continuation (>= s generations) is rare in the corpus (P_T <= eps).

``classify_patterns`` writes ``RESULTS/patterns`` (and, given a behaviour file,
``RESULTS/behaviors``). Thresholds and their defaults: ``params``; class rules:
``classes``; statistics (G², p-values, log-ratio, keyness): ``stats``; user
behaviours: ``behaviors``, ``features``, ``behavior_score``; mutual information:
``mi``. The module docstrings say what each leaves out.
"""

from __future__ import annotations

from corpusmap.patterns.mi import bootstrap_mi, mutual_information
from corpusmap.patterns.params import PatternParams
from corpusmap.patterns.run import classify_patterns
from corpusmap.patterns.stats import g2_test

__all__ = ["PatternParams", "bootstrap_mi", "classify_patterns", "g2_test", "mutual_information"]
