"""The eval gate's rules: what each finding means, why it matters and how to fix it."""

from __future__ import annotations

from gates.core.findings import Rule, Severity

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("EVAL001", "Metric below minimum", Severity.HIGH,
             "The model does not meet the quality bar the policy sets for this metric.",
             "Improve the model or, if the bar is wrong, change `min` in the policy through review."),
        Rule("EVAL002", "Metric above maximum", Severity.HIGH,
             "The metric exceeds the ceiling the policy allows (e.g. a toxicity or error rate).",
             "Improve the model or, if the ceiling is wrong, change `max` in the policy through review."),
        Rule("EVAL003", "Regression against baseline", Severity.HIGH,
             "The candidate is worse than the baseline by more than the allowed absolute regression.",
             "Find what caused the regression (data, hyper-parameters, code) or update the baseline deliberately."),
        Rule("EVAL004", "Relative regression against baseline", Severity.HIGH,
             "The candidate is worse than the baseline by more than the allowed relative regression.",
             "Find what caused the regression or update the baseline deliberately."),
        Rule("EVAL005", "Required metric missing", Severity.HIGH,
             "A metric the policy requires is not in the results, so it cannot be checked (fail closed).",
             "Make the evaluation job produce the metric, or fix its name in the policy."),
        Rule("EVAL006", "Gap between slices too large", Severity.HIGH,
             "The metric differs between slices (e.g. subgroups) by more than the allowed gap: a fairness or robustness problem.",
             "Improve the weakest slice or rebalance the data; the finding names the best and worst slice."),
        Rule("EVAL007", "Metric missing from baseline", Severity.MEDIUM,
             "A regression rule applies, but the baseline has no value for this metric, so no regression check ran.",
             "Regenerate the baseline with this metric, or drop the regression rule for it."),
        Rule("EVAL008", "Metric is not a finite number", Severity.HIGH,
             "NaN or infinity cannot satisfy a threshold; it usually means the evaluation broke.",
             "Fix the evaluation run so it produces a real number."),
        Rule("EVAL009", "Conflicting values for one metric", Severity.HIGH,
             "Two results files give different values for the same metric, so the verdict would depend on file order.",
             "Point `results` at one run, or rename the metrics so they do not collide."),
        Rule("EVAL010", "Metric not found", Severity.LOW,
             "A policy rule names a metric that is not in the results; the rule was not applied.",
             "Fix the metric name in the policy, or set `required: true` to make a missing metric fail."),
    )
}
