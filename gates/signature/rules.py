"""The signature gate's rules: one per way an artifact can fail to be (or be shown to be) signed."""

from __future__ import annotations

from gates.core.findings import Rule, Severity

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("SIG001", "No signature", Severity.HIGH,
             "The policy requires this artifact to be signed, but no signature file was found, so nobody vouches for its content.",
             "Sign it in the release job (`mlsec-gates sign PATH --method ...`) and ship the signature next to it."),
        Rule("SIG002", "Content differs from what was signed", Severity.CRITICAL,
             "The file's digest is not the one in the signature: it was modified after signing (or the signature belongs to another file).",
             "Restore the signed content, or re-sign deliberately if the change is intended."),
        Rule("SIG003", "Signed file missing", Severity.HIGH,
             "The signature lists a file that is not in the directory: the model is incomplete or was rearranged.",
             "Restore the file or re-sign the directory as it is meant to ship."),
        Rule("SIG004", "Unsigned extra file", Severity.HIGH,
             "A file sits in the signed directory but is not covered by the signature: it could change what the model does (code, weights, configs).",
             "Remove it, re-sign the directory including it, or allow it with `ignore_paths` in the policy."),
        Rule("SIG005", "Signer not allowed", Severity.HIGH,
             "The signature was made by an identity, key or CA the policy does not allow.",
             "Check who signed it; if they should be trusted, add them to `gates.signature.signers` (or public_keys/ca_certs) through review."),
        Rule("SIG006", "Invalid signature", Severity.CRITICAL,
             "The signature does not verify: malformed bundle, bad signature, broken certificate chain, inconsistent transparency-log entry, or a different Sigstore instance.",
             "Re-sign with a supported tool; check the trust root (production, staging or trust_config) matches the signer's instance."),
        Rule("SIG007", "Symlink or special file in a signed directory", Severity.HIGH,
             "A symlink (or device, pipe) can point the model loader at content the signature never covered.",
             "Replace the symlink with the file itself and re-sign."),
        Rule("SIG008", "Signature ignores a file that must be signed", Severity.HIGH,
             "The signature's ignore_paths leave out a file the policy requires signed (weights, code, configs): it can be swapped freely.",
             "Re-sign without ignoring it, or narrow `require_signed` in the policy if the file truly does not matter."),
        Rule("SIG009", "File left out by the signature", Severity.LOW,
             "The signature's ignore_paths leave this file out; it is not covered, but the policy does not require it.",
             "Nothing to do if the file does not affect the model; otherwise sign it."),
        Rule("SIG010", "Signature verified", Severity.INFO,
             "The artifact's signature verified against the policy; the signer and log entry are recorded for audit.",
             "Nothing to do."),
    )
}
