"""Non-neural baselines trained side by side with the task's model on the same split.

``gbt``: scikit-learn's HistGradientBoostingClassifier on the 16 high-level features, the usual
strong baseline for tabular jet features; it sees exactly the training split the network sees
and is scored on the same test split with the same metrics.
"""

from __future__ import annotations

import time
from typing import Any

from cern_ai_bench.data.schema import JetDataset
from cern_ai_bench.metrics.classification import classification_report

BASELINES = ("gbt",)


def gbt_baseline(dataset: JetDataset, *, seed: int) -> dict[str, Any]:
    """Fit on the training split, stop early on the validation split, score on test.

    The network sees the same three splits: the validation split only steers training.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    if not dataset.has_hlf:
        raise ValueError(f"the gbt baseline needs high-level features; {dataset.name} has none")
    model = HistGradientBoostingClassifier(
        max_iter=500,
        learning_rate=0.1,
        early_stopping=True,
        n_iter_no_change=20,
        random_state=seed,
    )
    start = time.perf_counter()
    model.fit(
        dataset.train.hlf,
        dataset.train.labels,
        X_val=dataset.val.hlf,
        y_val=dataset.val.labels,
    )
    fit_s = time.perf_counter() - start
    probs = model.predict_proba(dataset.test.hlf)
    return {
        "model": "HistGradientBoostingClassifier",
        "iterations": int(model.n_iter_),
        "fit_s": fit_s,
        "test": classification_report(probs, dataset.test.labels, dataset.class_names),
    }


def run_baselines(names: list[str], dataset: JetDataset, *, seed: int) -> dict[str, Any]:
    """Run each named baseline; an unknown name is an error naming the valid ones."""
    results = {}
    for name in names:
        if name not in BASELINES:
            raise ValueError(f"task.baselines: unknown baseline {name!r}; valid: {list(BASELINES)}")
        results[name] = gbt_baseline(dataset, seed=seed)
    return results
