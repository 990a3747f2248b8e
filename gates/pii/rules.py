"""The pii gate's rules: what each finding means, why it matters and how to fix it."""

from __future__ import annotations

from gates.core.findings import Rule, Severity

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("PII001", "Personal data in dataset", Severity.HIGH,
             "The dataset holds personal data (cards, SSNs, IBANs, emails, phone numbers...). Training or shipping it can leak it "
             "through the model or the artifact and breaks data-protection rules.",
             "Remove or pseudonymise the column (tokenise, hash with a secret key, or generalise), or exclude the file from the "
             "dataset. If the values are synthetic, allowlist them (gates.pii.allow) or waive the finding with a reason."),
        Rule("PII002", "Secret or credential in dataset", Severity.CRITICAL,
             "A credential (private key, cloud or vendor token, JWT, password) is in the data: anyone with the dataset or a model "
             "trained on it can use it.",
             "Revoke and rotate the credential now, then remove it from the data and from the history of wherever it was stored."),
        Rule("PII003", "Known test value", Severity.INFO,
             "The value is a published test or documentation value (e.g. card 4111 1111 1111 1111, AKIAIOSFODNN7EXAMPLE); it is "
             "reported so you know it is there, never blocking.",
             "Nothing to do, unless test fixtures should not be in this dataset at all."),
        Rule("PII004", "Custom entity in dataset", Severity.HIGH,
             "A value matches a custom entity defined in the policy (gates.pii.custom).",
             "Remove or pseudonymise the values, or change the custom entity's action."),
        Rule("PII005", "File not scanned: binary content", Severity.LOW,
             "The file (or archive member) holds binary data the gate does not read (not CSV/TSV, JSON, JSONL, Parquet or "
             "text), so it was not checked.",
             "Exclude the file from gates.pii.paths, or convert the data to a supported format."),
        Rule("PII006", "File not scanned: data format not read", Severity.LOW,
             "The file is a data container the gate recognises (by its magic bytes or name) but does not read, such as "
             "Avro, SQLite, HDF5, NumPy, an Office document, an encrypted archive member or an archive inside an "
             "archive, so its contents were not checked for personal data.",
             "Convert the data to a format the gate reads (CSV, JSON Lines, Parquet, Arrow/Feather, ORC), scan it "
             "with another tool, or exclude the file from gates.pii.paths."),
    )
}
