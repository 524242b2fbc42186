"""Tier 2: a small local text classifier for errors no signature recognises.

TF-IDF over words and character n-grams plus structured tokens (status, exception type,
provider codes), a linear SVM, and sigmoid calibration fitted on cross-validated
predictions, so a probability of 0.6 means roughly "right 6 times in 10". Trained
deterministically from the packaged corpus's training split at first use (well under
2 s), kept in memory; no binary is stored anywhere.

The model's answer is only advice: `decide` turns a low probability into `unknown`, and
lets the model say GREEN only when it is very confident and nothing contradicts it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import hstack  # type: ignore[import-untyped]
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

from kyra.healing.diagnosis.corpus import context_of, load_corpus, split_corpus
from kyra.healing.diagnosis.observe import Observed, observe
from kyra.healing.taxonomy import ErrorClass, Safety, info

MIN_PROBABILITY = 0.55
"""Below this the model answers `unknown`: it does not know."""
GREEN_MIN_PROBABILITY = 0.85
"""The model may only name a GREEN class when this sure (and uncontradicted)."""
GREEN_COMPATIBLE_STATUS = frozenset({408, 429})
RANDOM_STATE = 7
_TOKEN = re.compile(r"[^a-z0-9_]+")


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


@dataclass
class ModelAnswer:
    """The model's raw view: the top class, its calibrated probability, the runners-up."""

    error_class: ErrorClass
    probability: float
    scores: dict[str, float] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)


def _vectorizers() -> list[TfidfVectorizer]:
    return [
        TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            max_features=8000,
            token_pattern=r"(?u)\b\w[\w.]+\b",
        ),
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=10000
        ),
    ]


class _Block:
    """One fitted TF-IDF vectoriser, applied without sklearn's per-call overhead
    (sublinear tf x idf, l2-normalised: the same numbers as `transform`)."""

    def __init__(self, vectorizer: TfidfVectorizer, offset: int) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = {
            str(term): int(index) + offset for term, index in vectorizer.vocabulary_.items()
        }
        self.idf = {
            index: float(vectorizer.idf_[index - offset]) for index in self.vocabulary.values()
        }
        self.names = {index: f"{term}" for term, index in self.vocabulary.items()}

    def vector(self, text: str) -> dict[int, float]:
        counts = Counter(self.vocabulary[t] for t in self.analyze(text) if t in self.vocabulary)
        values = {i: (1.0 + math.log(c)) * self.idf[i] for i, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        return {i: v / norm for i, v in values.items()}


class LocalModel:
    """A linear SVM over TF-IDF features with per-class sigmoid calibration.

    Fitted with scikit-learn, then applied with a few numpy operations: sklearn's own
    `transform`/`predict_proba` cost ~3 ms per call, this costs ~0.3 ms.
    """

    def __init__(self, vectorizers: list[TfidfVectorizer], classifier: CalibratedClassifierCV):
        self._blocks: list[_Block] = []
        offset = 0
        for vectorizer in vectorizers:
            self._blocks.append(_Block(vectorizer, offset))
            offset += len(vectorizer.vocabulary_)
        calibrated = classifier.calibrated_classifiers_[0]
        self.classes = [ErrorClass(c) for c in classifier.classes_]
        self._weights = np.asarray(calibrated.estimator.coef_, dtype=np.float64)
        self._bias = np.asarray(calibrated.estimator.intercept_, dtype=np.float64)
        self._a = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
        self._b = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)

    @classmethod
    def train(cls, examples: list[dict[str, Any]]) -> LocalModel:
        """Fit on `examples` (each with `label`) deterministically."""
        texts = [model_text(observe(context_of(e))) for e in examples]
        labels = [e["label"] for e in examples]
        vectorizers = _vectorizers()
        matrix = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
        counts = np.unique(labels, return_counts=True)[1]
        folds = int(max(2, min(3, counts.min())))
        base = LinearSVC(C=0.5, max_iter=10000, random_state=RANDOM_STATE)
        classifier = CalibratedClassifierCV(base, method="sigmoid", cv=folds, ensemble=False)
        classifier.fit(matrix, labels)
        return cls(vectorizers, classifier)

    @classmethod
    def from_corpus(cls) -> LocalModel:
        """Train on the packaged corpus's training split (never on the held-out slice)."""
        train, _ = split_corpus(load_corpus())
        return cls.train(train)

    def predict(self, obs: Observed, *, explain: bool = False) -> ModelAnswer:
        """The calibrated class probabilities for one observed error."""
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
        reasons: list[str] = []
        if explain and len(index):
            contribution = self._weights[top, index] * values
            names = {
                i: n for block in self._blocks for i, n in block.names.items() if i in features
            }
            for k in np.argsort(contribution)[::-1][:6]:
                if contribution[k] > 0:
                    reasons.append(f"{names[int(index[k])]!r} ({contribution[k]:+.3f})")
        return ModelAnswer(self.classes[top], float(probabilities[top]), scores, reasons)


def decide(answer: ModelAnswer, obs: Observed, *, green_allowed: bool = True) -> ErrorClass:
    """The class the model may claim: `unknown` when unsure, never an unsupported GREEN."""
    if answer.probability < MIN_PROBABILITY:
        return ErrorClass.UNKNOWN
    if info(answer.error_class).safety is Safety.GREEN:
        status_ok = (
            obs.status is None or obs.status in GREEN_COMPATIBLE_STATUS or (obs.status >= 500)
        )
        if not (green_allowed and status_ok and answer.probability >= GREEN_MIN_PROBABILITY):
            return ErrorClass.UNKNOWN
    return answer.error_class
