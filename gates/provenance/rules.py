"""The provenance gate's rules: licence, source, custom code and required facts.

Every finding names the file and key that declared the fact it is about (a model card's
``license``, an adapter's ``base_model_name_or_path``, a ``config.json`` ``auto_map``), so the
reviewer sees where to change it; one finding per model and rule.
"""

from __future__ import annotations

from gates.core.findings import Rule, Severity

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("PROV001", "Licence not allowed", Severity.HIGH,
             "The model is declared under a licence the policy denies or does not list as allowed (for example a "
             "non-commercial or research-only licence in a product).",
             "Use a model under an allowed licence, or have the licence reviewed and add it to "
             "`gates.provenance.licenses.allow`."),
        Rule("PROV002", "Licence unknown", Severity.HIGH,
             "The model declares a licence that cannot be identified (`license: other` without `license_name`, "
             "`unknown`, or a LICENSE text that matches no known licence), so its terms of use are unknown.",
             "Declare the licence in the model card (`license:` with an SPDX or Hugging Face id, or `license_name`) "
             "or add the licence text; set `gates.provenance.licenses.unknown: warn` to only warn."),
        Rule("PROV003", "Model source not allowed", Severity.HIGH,
             "The model, or a base model it declares (directly or through a local adapter -> base chain), comes "
             "from an organisation or repository the policy does not approve.",
             "Use a model from an approved source, or add the source to `gates.provenance.sources.allow` after review."),
        Rule("PROV004", "Model ships custom code", Severity.HIGH,
             "`auto_map` entries and `*.py` files beside the weights run as Python when the model is loaded with "
             "`trust_remote_code=True`: the repository's own code runs on the machine that loads it.",
             "Remove the custom code, or review each file and list its SHA-256 in "
             "`gates.provenance.custom_code_allow_sha256` (code from another repository cannot be allowed by hash)."),
        Rule("PROV005", "Required provenance missing", Severity.HIGH,
             "The policy requires every model to declare this fact (`gates.provenance.require`), and this one does not.",
             "Add a model card (README.md with YAML front matter) declaring the licence and base model, or a LICENSE file."),
    )
}
