"""The thresholds of the four pattern classes, with defaults per tokenizer unit.

Every class is a rule over counts, and every number in a rule is one of these
fields (and a ``corpusmap classify`` flag of the same name). Defaults left as
None depend on the unit of the index: a ``bytes`` token is ~1/5 of a word, so
byte n-grams must be ~5x longer to say as much as word n-grams; subword (``hf``)
and raw ``ids`` tokens sit in between (a word is ~1.3 subword tokens).

====================  =====================  ==========================================
field                 default                meaning
====================  =====================  ==========================================
n_min, n_max          words 3..6,            n-gram lengths (tokens) of the n-gram
                      hf/ids 4..8,           classes, both ends included
                      bytes 20..32
min_generations (k)   3                      shared/idiosyncratic: the n-gram recurs in
                                             >= k distinct generations (a pattern of
                                             the model is something it does more than
                                             once; a one-off is not a pattern)
e_min                 5.0                    unexpressed: expected count in the
                                             generations (corpus rate x generation
                                             opportunities) at least this
alpha                 0.01                   unexpressed: Poisson P(0 | expected) <
                                             alpha; contingent: G² p-value < alpha
support (s)           5                      contingent: the model's dominant
                                             continuation follows the trigger in >= s
                                             distinct generations
eps                   0.05                   contingent: P_corpus(continuation |
                                             trigger) <= eps
trigger_n             words 3, hf/ids 4,     trigger context length (tokens)
                      bytes 16
top_k                 100                    rows kept per class (0: all)
behaviors             None                   TOML/YAML file of user behaviours
feature               "behavior"             output feature for mutual information
                                             (see ``classify.features``)
corpus_sample         1000                   corpus documents sampled to evaluate
                                             regex/function behaviours
seed                  0                      seeds the document sample and bootstrap
====================  =====================  ==========================================

e_min = 5 makes the Poisson p-value of a zero count exp(-5) = 0.0067 < alpha, so
with the defaults "expected >= 5 and never seen" is the whole rule; raising
alpha or lowering e_min lets one or the other bind.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from corpusmap.errors import CorpusmapError

_UNIT_DEFAULTS = {  # unit -> (n_min, n_max, trigger_n)
    "bytes": (20, 32, 16),
    "words": (3, 6, 3),
    "hf": (4, 8, 4),
    "ids": (4, 8, 4),
}


def _flag(default: Any, kind: Any, help: str) -> Any:
    """A field that is also a command-line flag: its value type and help text."""
    return field(default=default, metadata={"type": kind, "help": help})


@dataclass(frozen=True)
class PatternParams:
    """Thresholds of the pattern classes (see the module docstring for each)."""

    # ``help`` in a field's metadata makes it a ``corpusmap classify`` flag of the same name
    n_min: int | None = _flag(None, int, "Shortest n-gram, tokens [words 3, hf/ids 4, bytes 20].")
    n_max: int | None = _flag(None, int, "Longest n-gram, tokens [words 6, hf/ids 8, bytes 32].")
    min_generations: int = _flag(
        3, int, "k: shared/idiosyncratic n-grams recur in >= k generations."
    )
    e_min: float = _flag(
        5.0, float, "Unexpressed: expected count in the generations at least this."
    )
    alpha: float = _flag(0.01, float, "Unexpressed: Poisson p < alpha; contingent: G² p < alpha.")
    support: int = _flag(5, int, "Contingent: dominant continuation in >= s generations.")
    eps: float = _flag(0.05, float, "Contingent: corpus P(continuation | trigger) <= eps.")
    trigger_n: int | None = _flag(
        None, int, "Trigger length, tokens [words 3, hf/ids 4, bytes 16]."
    )
    top_k: int = _flag(100, int, "Pattern rows kept per class, by keyness (0: all).")
    behaviors: str | None = _flag(None, "file", "TOML/YAML file of user behaviours.")
    feature: str = _flag(
        "behavior",
        str,
        "Output feature for behaviour mutual information: behavior, copied>=L, extracted, "
        "COLUMN or COLUMN>=V.",
    )
    corpus_sample: int = _flag(1000, int, "Corpus documents sampled for regex/function behaviours.")
    seed: int = 0
    examples: int = 3  # generation ids / corpus doc ids kept per row

    def resolve(self, unit: str) -> PatternParams:
        """Fill the unit-dependent defaults and check every value."""
        n_min, n_max, trig = _UNIT_DEFAULTS.get(unit, _UNIT_DEFAULTS["hf"])
        p = replace(
            self,
            n_min=self.n_min if self.n_min is not None else n_min,
            n_max=self.n_max if self.n_max is not None else max(n_max, self.n_min or 0),
            trigger_n=self.trigger_n if self.trigger_n is not None else trig,
        )
        p.check()
        return p

    def check(self) -> None:
        """Refuse values no rule can use, naming the flag."""
        problems = []
        if not (self.n_min and self.n_max and 1 <= self.n_min <= self.n_max <= 255):
            problems.append(f"--n-min/--n-max must satisfy 1 <= n-min <= n-max <= 255 "
                            f"(got {self.n_min}..{self.n_max})")  # fmt: skip
        if self.min_generations < 1:
            problems.append(f"--min-generations must be >= 1 (got {self.min_generations})")
        if self.e_min <= 0:
            problems.append(f"--e-min must be > 0 (got {self.e_min})")
        if not 0 < self.alpha <= 1:
            problems.append(f"--alpha must be in (0, 1] (got {self.alpha})")
        if self.support < 1:
            problems.append(f"--support must be >= 1 (got {self.support})")
        if not 0 <= self.eps < 1:
            problems.append(f"--eps must be in [0, 1) (got {self.eps})")
        if not (self.trigger_n and 1 <= self.trigger_n <= 254):
            problems.append(f"--trigger-n must be in 1..254 (got {self.trigger_n})")
        if self.top_k < 0:
            problems.append(f"--top-k must be >= 0 (got {self.top_k})")
        if self.corpus_sample < 1:
            problems.append(f"--corpus-sample must be >= 1 (got {self.corpus_sample})")
        if problems:
            raise CorpusmapError("bad pattern thresholds: " + "; ".join(problems))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
