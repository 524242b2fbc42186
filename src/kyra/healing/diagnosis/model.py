"""Tier 2: a small local text classifier for errors no signature recognises.

TF-IDF over words and character n-grams plus structured tokens (status, exception type,
provider codes), a linear SVM, and sigmoid calibration fitted on cross-validated
predictions, so a probability of 0.6 means roughly "right 6 times in 10".

Trained by `python -m kyra.healing.diagnosis.build` (scikit-learn, deterministic) from the
corpus's training split and the provider knowledge base; what training produces (the
vocabularies, idf, weights and calibration) ships as `data/diagnosis_model.json.gz` and is
applied here with a few numpy operations. Importing this module imports neither
scikit-learn nor numpy: both load when the model is first trained or applied.

The model's answer is only advice: `decide` turns a low probability into `unknown`, and
lets the model say GREEN only when it is very confident and the error's structure (a
transient status, a Retry-After header) allows it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from kyra.healing.diagnosis.corpus import context_of
from kyra.healing.diagnosis.observe import Observed, observe
from kyra.healing.diagnosis.structure import TEXT_ONLY_GREEN, date_evidence, structural_green
from kyra.healing.taxonomy import ErrorClass, Safety, info

if TYPE_CHECKING:
    import numpy as np

MIN_PROBABILITY = {Safety.RED: 0.2, Safety.YELLOW: 0.45}
"""Below this (by the safety of the class it would name) the model answers `unknown`.
A RED class changes nothing and sends the error to a person, as `unknown` does, so a
weak RED answer only names what the person should look at; a YELLOW class proposes a
fix, so it needs more."""
GREEN_MIN_PROBABILITY = 0.85
"""The model may only name a GREEN class when this sure (and the structure allows it)."""
RANDOM_STATE = 7
SVM_C = 0.5
CLASS_WEIGHT: str | None = None
WEIGHT_DECIMALS = 5
"""Weights are stored rounded: smaller artifact, same bytes on every rebuild."""
WORD_FEATURES = 20000
CHAR_FEATURES = 20000
_TOKEN = re.compile(r"[^a-z0-9_]+")
_WORD = re.compile(r"(?u)\b\w[\w.]+\b")
_SPACES = re.compile(r"\s\s+")


def model_text(obs: Observed) -> str:
    """The document the model reads: structured tokens first, then bounded prose."""
    parts: list[str] = []
    if obs.status is not None:
        parts += [f"status_{obs.status}", f"status_{obs.status // 100}xx"]
    else:
        parts.append("status_none")
    parts += [f"type_{_TOKEN.sub('_', t)}" for t in sorted(obs.types)]
    parts += [f"code_{_TOKEN.sub('_', c)}" for c in sorted(obs.codes)]
    if obs.provider:
        parts.append(f"provider_{_TOKEN.sub('_', obs.provider)}")
    parts.append(obs.text[:600])
    return " ".join(parts)


def word_ngrams(text: str) -> list[str]:
    """Word unigrams and bigrams (lower-cased), as scikit-learn's `word` analyzer makes."""
    tokens = _WORD.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def char_ngrams(text: str) -> list[str]:
    """Character 3-5-grams inside word boundaries, as scikit-learn's `char_wb` makes."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(3, 6):
            if len(padded) < n:
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


ANALYZERS = {"word": word_ngrams, "char": char_ngrams}


@dataclass
class ModelAnswer:
    """The model's raw view: the top class, its calibrated probability, the runners-up."""

    error_class: ErrorClass
    probability: float
    scores: dict[str, float] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)
    red_probability: float | None = None
    """The safety head's calibrated probability that the error is RED (None: no head)."""
    red_class: ErrorClass | None = None
    """The likeliest RED class by the class head, to name when the safety head wins."""


class _Block:
    """One TF-IDF vocabulary: sublinear tf x idf, l2-normalised (scikit-learn's numbers)."""

    def __init__(self, kind: str, vocabulary: dict[str, int], idf: list[float], offset: int):
        self.kind = kind
        self.analyze = ANALYZERS[kind]
        self.vocabulary = {term: index + offset for term, index in vocabulary.items()}
        self.idf = {index + offset: idf[index] for index in vocabulary.values()}
        self.names = {index: term for term, index in self.vocabulary.items()}

    def vector(self, text: str) -> dict[int, float]:
        counts = Counter(self.vocabulary[t] for t in self.analyze(text) if t in self.vocabulary)
        values = {i: (1.0 + math.log(c)) * self.idf[i] for i, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        return {i: v / norm for i, v in values.items()}


class LocalModel:
    """A linear SVM over TF-IDF features with per-class sigmoid calibration, applied with
    numpy (~0.3 ms a call) from the parameters `train` produced."""

    def __init__(self, params: dict[str, Any]):
        import numpy as np

        self.params = params
        self.classes = [ErrorClass(c) for c in params["classes"]]
        self._blocks: list[_Block] = []
        offset = 0
        for block in params["blocks"]:
            self._blocks.append(_Block(block["kind"], block["vocabulary"], block["idf"], offset))
            offset += len(block["vocabulary"])
        self._weights: np.ndarray = np.asarray(params["weights"], dtype=np.float64)
        self._bias: np.ndarray = np.asarray(params["bias"], dtype=np.float64)
        self._a: np.ndarray = np.asarray(params["a"], dtype=np.float64)
        self._b: np.ndarray = np.asarray(params["b"], dtype=np.float64)
        head = params.get("red_head")
        self._head: tuple[np.ndarray, float, float, float] | None = None
        if head is not None:
            weights = np.asarray(head["weights"], dtype=np.float64)
            self._head = (weights, float(head["bias"]), float(head["a"]), float(head["b"]))
        self._red = np.asarray(
            [info(c).safety is Safety.RED and c is not ErrorClass.UNKNOWN for c in self.classes]
        )

    @classmethod
    def train(cls, examples: list[dict[str, Any]]) -> LocalModel:
        """Fit on `examples` (each with `label`) deterministically (needs scikit-learn)."""
        import numpy as np
        from scipy.sparse import hstack  # type: ignore[import-untyped]
        from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
        from sklearn.feature_extraction.text import (  # type: ignore[import-untyped]
            TfidfVectorizer,
        )
        from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

        texts = [model_text(observe(context_of(e))) for e in examples]
        labels = [e["label"] for e in examples]
        vectorizers = [
            (
                "word",
                TfidfVectorizer(
                    analyzer=word_ngrams, sublinear_tf=True, max_features=WORD_FEATURES
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer=char_ngrams,
                    min_df=min(2, len(texts) - 1) or 1,
                    sublinear_tf=True,
                    max_features=CHAR_FEATURES,
                ),
            ),
        ]
        matrix = hstack([v.fit_transform(texts) for _, v in vectorizers]).tocsr()
        classes, counts = np.unique(labels, return_counts=True)
        base = LinearSVC(
            C=SVM_C, class_weight=CLASS_WEIGHT, max_iter=10000, random_state=RANDOM_STATE
        )
        if len(classes) < 2:  # nothing to separate: the one class, always
            coef, intercept = np.zeros((1, matrix.shape[1])), np.zeros(1)
            a, b = [-1.0], [0.0]
        elif counts.min() < 2:  # too few to calibrate on held-out folds: a fixed sigmoid
            base.fit(matrix, labels)
            coef, intercept = base.coef_, base.intercept_
            if len(classes) == 2:  # scikit-learn keeps one row for two classes
                coef, intercept = np.vstack([-coef, coef]), np.hstack([-intercept, intercept])
            a, b = [-2.0] * len(classes), [0.0] * len(classes)
        else:
            folds = int(min(3, counts.min()))
            classifier = CalibratedClassifierCV(base, method="sigmoid", cv=folds, ensemble=False)
            classifier.fit(matrix, labels)
            calibrated = classifier.calibrated_classifiers_[0]
            coef, intercept = calibrated.estimator.coef_, calibrated.estimator.intercept_
            a = [c.a_ for c in calibrated.calibrators]
            b = [c.b_ for c in calibrated.calibrators]
        digits = WEIGHT_DECIMALS

        def rounded(values: Any) -> list[float]:
            return [round(float(v), digits) for v in values]

        head = _train_red_head(matrix, labels, rounded)

        blocks = [
            {
                "kind": kind,
                "vocabulary": {str(t): int(i) for t, i in sorted(v.vocabulary_.items())},
                "idf": rounded(v.idf_),
            }
            for kind, v in vectorizers
        ]
        params = {
            "classes": [str(c) for c in classes],
            "blocks": blocks,
            "weights": [rounded(row) for row in coef],
            "bias": rounded(intercept),
            "a": rounded(a),
            "b": rounded(b),
        }
        if head is not None:
            params["red_head"] = head
        return cls(params)

    def predict(self, obs: Observed, *, explain: bool = False) -> ModelAnswer:
        """The calibrated class probabilities for one observed error."""
        import numpy as np

        text = model_text(obs)
        features: dict[int, float] = {}
        for block in self._blocks:
            features.update(block.vector(text))
        index = np.fromiter(features.keys(), dtype=np.int64, count=len(features))
        values = np.fromiter(features.values(), dtype=np.float64, count=len(features))
        decision = self._weights[:, index] @ values + self._bias
        probabilities = 1.0 / (1.0 + np.exp(self._a * decision + self._b))
        probabilities = probabilities / (probabilities.sum() or 1.0)
        order = np.argsort(probabilities)[::-1]
        top = int(order[0])
        scores = {self.classes[i].value: round(float(probabilities[i]), 4) for i in order[:3]}
        red_probability: float | None = None
        red_class: ErrorClass | None = None
        if self._head is not None:
            weights, bias, a, b = self._head
            decision_red = float(weights[index] @ values + bias)
            red_probability = round(1.0 / (1.0 + math.exp(a * decision_red + b)), 4)
        if self._red.any():
            red_class = self.classes[int(np.argmax(np.where(self._red, probabilities, -1.0)))]
        reasons: list[str] = []
        if explain and len(index):
            contribution = self._weights[top, index] * values
            names = {
                i: n for block in self._blocks for i, n in block.names.items() if i in features
            }
            for k in np.argsort(contribution)[::-1][:6]:
                if contribution[k] > 0:
                    reasons.append(f"{names[int(index[k])]!r} ({contribution[k]:+.3f})")
        return ModelAnswer(
            self.classes[top],
            float(probabilities[top]),
            scores,
            reasons,
            red_probability,
            red_class,
        )


def _train_red_head(matrix: Any, labels: list[str], rounded: Any) -> dict[str, Any] | None:
    """The safety head: RED vs. the rest over the same features, with balanced class
    weights and sigmoid calibration on held-out folds. Calling a RED error YELLOW is the
    costly mistake, so this head is read on its own (see `safety.py`) instead of the sum
    of the class head's RED probabilities, which spreads RED over six classes."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    red = np.asarray([info(ErrorClass(label)).safety is Safety.RED for label in labels])
    if red.sum() < 3 or (~red).sum() < 3:
        return None
    base = LinearSVC(C=SVM_C, class_weight="balanced", max_iter=10000, random_state=RANDOM_STATE)
    classifier = CalibratedClassifierCV(base, method="sigmoid", cv=3, ensemble=False)
    classifier.fit(matrix, red)
    calibrated = classifier.calibrated_classifiers_[0]
    calibrator = calibrated.calibrators[0]
    return {
        "weights": rounded(calibrated.estimator.coef_[0]),
        "bias": round(float(calibrated.estimator.intercept_[0]), WEIGHT_DECIMALS),
        "a": round(float(calibrator.a_), WEIGHT_DECIMALS),
        "b": round(float(calibrator.b_), WEIGHT_DECIMALS),
    }


def decide(answer: ModelAnswer, obs: Observed, *, green_allowed: bool = True) -> ErrorClass:
    """The class the model may claim: `unknown` when unsure, never an unsupported GREEN."""
    safety = info(answer.error_class).safety
    if answer.probability < MIN_PROBABILITY.get(safety, GREEN_MIN_PROBABILITY):
        return ErrorClass.UNKNOWN
    if info(answer.error_class).safety is Safety.GREEN:
        backed = (
            date_evidence(obs) if answer.error_class in TEXT_ONLY_GREEN else structural_green(obs)
        )
        if not (green_allowed and backed and answer.probability >= GREEN_MIN_PROBABILITY):
            return ErrorClass.UNKNOWN
    return answer.error_class
