"""The signature gate: models and datasets must be signed by an allowed identity.

Three kinds of signature are verified: a Sigstore bundle next to a file
(``<file>.sigstore.json``), an OpenSSF Model Signing (OMS) ``model.sig`` over a directory or a
single file made with Sigstore, and OMS signatures made with a plain EC key or a certificate
chain. For OMS the signed manifest is compared with the directory file by file (missing, extra,
changed, symlinks, files hidden by the signature's ``ignore_paths``). ``mlsec-gates sign`` writes
the same formats.
"""

from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path
from typing import Any

from gates.core.errors import UsageError
from gates.core.files import any_match
from gates.core.gate import Gate, GateContext

from . import oms
from .identity import SignerSpec, signers_policy
from .policy import (
    BUNDLE_SUFFIXES, DEFAULT_IGNORE, DEFAULT_OPTIONS, OPTIONS_SCHEMA, Artifact, Settings,
    parse_signers, settings_from_options,
)
from .rules import RULES
from .trust import TrustError, load_trusted_root

# ``.verify`` pulls in sigstore's verifier (slow to import); it is loaded when the gate runs, so
# registering the gate costs every other ``mlsec-gates`` command nothing.


class SignatureGate(Gate):
    name = "signature"
    title = "Signatures"
    description = "Sigstore bundles and OpenSSF Model Signing signatures, verified against allowed identities, keys or CAs."
    rules = RULES
    default_paths = ()
    options_schema = OPTIONS_SCHEMA
    default_options = DEFAULT_OPTIONS
    epilog = """examples:
  mlsec-gates signature model/ --identity release@example.com --issuer https://accounts.google.com
  mlsec-gates signature model/ --identity-regex 'https://github.com/org/repo/\\.github/workflows/.*' \\
      --issuer https://token.actions.githubusercontent.com
  mlsec-gates signature model/ --public-key release.pub          # OMS signed with an EC key
  mlsec-gates signature model/ --ca-cert ca.pem                   # OMS signed with a certificate chain
  mlsec-gates signature weights.bin --identity ... --issuer ... --trust-config trust.json   # offline
  mlsec-gates sign model/ --method key --key release.key          # write model/model.sig

exit codes: 0 verified, 1 not verified, 2 error
"""

    # ---- command line ---------------------------------------------------------------------------
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group("signature")
        g.add_argument("--identity", metavar="ID", help="allowed signer identity (exact; needs --issuer)")
        g.add_argument("--identity-regex", metavar="RE", help="allowed signer identity as a regular expression matched in full")
        g.add_argument("--issuer", metavar="URL", help="required OIDC issuer of the signer")
        g.add_argument("--trust-config", metavar="FILE", help="Sigstore ClientTrustConfig JSON (offline, private instance)")
        g.add_argument("--staging", action="store_true", help="trust Sigstore staging (its root ships in the sigstore package)")
        g.add_argument("--public-key", metavar="PEM", action="append", help="EC public key for OMS key signatures (repeatable)")
        g.add_argument("--ca-cert", metavar="PEM", action="append", help="CA certificate for OMS certificate signatures (repeatable)")
        g.add_argument("--signature", metavar="FILE", help="signature file (default: PATH/model.sig, or PATH.sigstore.json for a file)")
        g.add_argument("--ignore-paths", metavar="P", nargs="+", action="extend",
                       help="paths inside the directory allowed to be present unsigned (repeatable)")

    def options_from_args(self, args: argparse.Namespace) -> dict[str, Any]:
        out: dict[str, Any] = {}
        ident, regex, issuer = getattr(args, "identity", None), getattr(args, "identity_regex", None), getattr(args, "issuer", None)
        if ident or regex:
            if not issuer:
                raise UsageError("--identity/--identity-regex need --issuer")
            signer = {"issuer": issuer, **({"identity": ident} if ident else {}), **({"identity_regex": regex} if regex else {})}
            try:
                SignerSpec.from_mapping(signer)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            out["signers"] = [signer]
        elif issuer:
            raise UsageError("--issuer needs --identity or --identity-regex")
        if getattr(args, "public_key", None):
            out["public_keys"] = [str(Path(p).resolve()) for p in args.public_key]
        if getattr(args, "ca_cert", None):
            out["ca_certs"] = [str(Path(p).resolve()) for p in args.ca_cert]
        if getattr(args, "ignore_paths", None):
            _reclaim_target(args)
            out["ignore_paths"] = cli_ignore_paths(args.ignore_paths)
        trust: dict[str, Any] = {}
        if getattr(args, "staging", False):
            trust["instance"] = "staging"
        if getattr(args, "trust_config", None):
            trust["trust_config"] = str(Path(args.trust_config).resolve())
        if trust:
            out["trust"] = trust
        return out

    def add_commands(self, subparsers: Any) -> None:
        from .sign import add_sign_command

        add_sign_command(subparsers)

    def skip_reason(self, ctx: GateContext) -> str | None:
        if not ctx.options.get("artifacts"):
            return "no artifacts configured (gates.signature.artifacts)"
        return None

    # ---- run ----------------------------------------------------------------------------------
    def run(self, ctx: GateContext) -> None:
        from .verify import KeyMaterial

        explicit = bool(getattr(ctx.args, "trust_config", None)) if ctx.args is not None else False
        try:
            settings = settings_from_options(ctx.options, lambda p: ctx.resolve(p), explicit)
            material = KeyMaterial.load(settings.public_keys, settings.ca_certs, settings.cert_signers)
            artifacts = self._artifacts(ctx, settings)
        except (ValueError, OSError) as exc:
            ctx.error(f"signature policy: {exc}", ctx.root)
            return

        @functools.lru_cache(maxsize=1)
        def trusted_root() -> Any:
            ctx.note(f"Sigstore trust: {settings.trust.describe()}")
            return load_trusted_root(settings.trust)

        for art in artifacts:
            if not any((art.signers, settings.public_keys, settings.ca_certs)):
                ctx.error("no allowed signers, public keys or CA certificates: give --identity/--issuer, --public-key or --ca-cert, "
                          "or set gates.signature.signers", art.path)
                continue
            try:
                if art.format == "oms":
                    self._check_oms(ctx, art, settings, material, trusted_root)
                else:
                    self._check_bundles(ctx, art, trusted_root)
            except TrustError as exc:
                ctx.error(f"Sigstore trust root: {exc}", art.path)
            except OSError as exc:
                ctx.error(f"cannot read: {exc.strerror or type(exc).__name__}", exc.filename or art.path)

    # ---- which artifacts --------------------------------------------------------------------------
    def _artifacts(self, ctx: GateContext, s: Settings) -> list[Artifact]:
        sig_arg = getattr(ctx.args, "signature", None) if ctx.args is not None else None
        out: list[Artifact] = []
        if ctx.targets:
            if sig_arg and len(ctx.targets) > 1:
                raise ValueError("--signature names one signature file: give one PATH with it")
            for t in ctx.targets:
                if not t.exists():
                    raise ValueError(f"{t}: no such file or directory")
                sig = Path(sig_arg) if sig_arg else None
                fmt = "oms" if t.is_dir() else detect_file_format(t, sig)
                out.append(Artifact(t, fmt, sig, s.methods, s.signers, s.ignore_paths, s.require_signed))
            return out
        for i, a in enumerate(ctx.options.get("artifacts") or []):
            where = f"gates.signature.artifacts[{i}]"
            signers = parse_signers(a.get("signers"), where + ".signers") if "signers" in a else list(s.signers)
            pattern = a["path"]
            if any(c in pattern for c in "*?["):
                if ".." in Path(pattern).parts or Path(pattern).is_absolute():
                    raise ValueError(f"{where}: a glob must stay inside the root ({pattern!r})")
                root = ctx.root.resolve()
                matches = sorted(m for m in ctx.root.glob(pattern) if m.resolve().is_relative_to(root))
                if not matches:
                    raise ValueError(f"{where}: no path matches {pattern!r}")
                if a.get("signature") and len(matches) > 1:
                    raise ValueError(f"{where}: 'signature' names one file but {pattern!r} matches {len(matches)} paths")
            else:
                p = ctx.resolve(pattern)
                if not p.exists():
                    raise ValueError(f"{where}: {pattern} does not exist")
                matches = [p]
            for m in matches:
                if m.name.endswith(BUNDLE_SUFFIXES) or m.name == "model.sig":
                    continue
                sig = ctx.resolve(a["signature"]) if a.get("signature") else None
                fmt = a.get("format") or ("oms" if m.is_dir() else detect_file_format(m, sig))
                out.append(Artifact(m, fmt, sig, list(a.get("methods") or s.methods), signers,
                                    [*s.ignore_paths, *(a.get("ignore_paths") or [])],
                                    list(a["require_signed"]) if "require_signed" in a else list(s.require_signed)))
        return out

    # ---- OMS over a directory -----------------------------------------------------------------------
    def _check_oms(self, ctx: GateContext, art: Artifact, s: Settings, material: Any, trusted_root: Any) -> None:
        single = not art.path.is_dir()
        sig = art.signature or (art.path.parent if single else art.path) / "model.sig"
        if not sig.is_file():
            what = "file" if single else "directory"
            ctx.add("SIG001", f"no OMS signature ({sig.name}) for this {what}", art.path, key="oms", signature=ctx.display(sig))
            return
        needs_sigstore = False
        bundle: dict[str, Any] | None = None
        try:
            bundle = oms.read_bundle_json(sig)
            needs_sigstore = oms.signing_method(bundle) == "sigstore"
        except oms.FormatError:
            pass  # verify_oms reports it
        # read and hash the files while the signature is checked (sigstore's import and checks
        # take a few hundred ms); only digests the verified manifest asks for are used
        pre = oms.start_hashing(art.path, bundle, single=single, skip=[sig], max_workers=s.max_workers) if bundle else None
        try:
            outcome = self._verify_and_compare(ctx, art, sig, single, needs_sigstore, material, trusted_root, s, pre)
        finally:
            if pre is not None:
                pre.close()
        if outcome is None:
            return
        verified, manifest, diff = outcome
        ctx.scanned(art.path, len(diff.verified))
        who = verified.to_fields()
        for rel, expected, actual in diff.mismatched:
            rel = art.path.name if single else rel
            ctx.add("SIG002", f"{rel}: content differs from the signed digest (the signature itself is valid, {verified.describe()})",
                    art.path if single else art.path / rel,
                    key=rel, expected=expected, actual=actual, artifact=ctx.display(art.path), **who)
        for rel in diff.missing:
            ctx.add("SIG003", f"{rel}: signed but missing from the directory", art.path / rel, key=rel, artifact=ctx.display(art.path))
        for rel in diff.extra:
            ctx.add("SIG004", f"{rel}: present but not covered by the signature", art.path / rel, key=rel, artifact=ctx.display(art.path))
        for rel in (*diff.symlinks, *diff.special):
            kind = "symlink" if rel in diff.symlinks else "special file"
            ctx.add("SIG007", f"{rel}: {kind} inside a signed directory", art.path / rel, key=rel, artifact=ctx.display(art.path))
        for rel in diff.hidden:
            if any_match(rel, art.require_signed):
                ctx.add("SIG008", f"{rel}: left out by the signature's ignore_paths, but the policy requires it signed",
                        art.path / rel, key=rel, artifact=ctx.display(art.path), signature_ignore_paths=list(manifest.serialization.ignore_paths))
            else:
                ctx.add("SIG009", f"{rel}: not covered (the signature's ignore_paths leave it out)", art.path / rel,
                        key=rel, artifact=ctx.display(art.path), blocking=False)
        bad = len(diff.mismatched) + len(diff.missing) + len(diff.extra) + len(diff.symlinks) + len(diff.special)
        if bad:
            ctx.note(f"{ctx.display(art.path)}: signature by {verified.signer} is valid but {len(diff.verified)} of "
                     f"{len(diff.verified) + len(diff.mismatched) + len(diff.missing)} signed files match and {bad} problem(s) were found")
            return
        if any(any_match(r, art.require_signed) for r in diff.hidden):
            return
        ctx.add("SIG010", f"OMS signature verified: {len(diff.verified)} file(s) {verified.describe()}", art.path,
                key="oms", blocking=False, files=len(diff.verified), serialization=manifest.serialization.method, **who)

    def _verify_and_compare(self, ctx: GateContext, art: Artifact, sig: Path, single: bool, needs_sigstore: bool,
                            material: Any, trusted_root: Any, s: Settings, pre: Any) -> tuple[Any, Any, Any] | None:
        """Verify the OMS signature, then diff the files against its manifest; ``None`` once a
        finding says why it cannot be trusted."""
        from .verify import InvalidSignature, NotAllowed, verify_oms

        root, policy = (trusted_root(), signers_policy(art.signers)) if needs_sigstore and art.signers else (None, None)
        try:
            verified, manifest = verify_oms(sig, trusted_root=root, policy=policy, material=material, methods=art.methods)
        except NotAllowed as exc:
            ctx.add("SIG005", exc.reason, sig, key="oms", found=exc.found, method=exc.method, allowed=self._allowed(art, s))
            return None
        except InvalidSignature as exc:
            ctx.add("SIG006", exc.reason, sig, key="oms")
            return None
        ignore = [*_ROOT_IGNORE, *ignore_globs(art.path, art.ignore_paths)]
        try:
            if single:
                diff = oms.compare_file(art.path, manifest, max_workers=s.max_workers, prehash=pre)
            else:
                diff = oms.compare(art.path, manifest, skip=[sig], verifier_ignore=ignore, max_workers=s.max_workers, prehash=pre)
        except oms.FormatError as exc:
            ctx.add("SIG006", str(exc), sig, key="oms")
            return None
        except ValueError as exc:  # unsupported hash algorithm
            ctx.add("SIG006", f"cannot re-hash as the signature says: {exc}", sig, key="oms")
            return None
        return verified, manifest, diff

    def _leftover_bundles(self, ctx: GateContext, art: Artifact) -> bool:
        """Bundles in a bundle-mode directory must each sign one file that is there: an orphan
        bundle (its file removed or renamed) or two bundles for one file mean the directory is
        not what was signed. Reported as errors (fail closed); returns whether all is well."""
        ok = True
        by_target: dict[Path, list[Path]] = {}
        for b in sorted(art.path.rglob("*")):
            sfx = next((x for x in BUNDLE_SUFFIXES if b.name.endswith(x)), None)
            if sfx is None or not b.is_file():
                continue
            by_target.setdefault(b.with_name(b.name[: -len(sfx)]), []).append(b)
        for target, bundles in by_target.items():
            if not target.is_file():
                ctx.error(f"orphan signature: {bundles[0].name} signs {target.name}, which is not in the directory", bundles[0])
                ok = False
            if len(bundles) > 1:
                ctx.error(f"two signatures for one file: {', '.join(b.name for b in bundles)} (keep exactly one)", target)
                ok = False
        return ok

    def _allowed(self, art: Artifact, s: Settings) -> list[str]:
        out = [sp.describe() for sp in art.signers]
        out += [f"public key {p.name}" for p in s.public_keys]
        out += [f"CA {p.name}" for p in s.ca_certs]
        out += [cs.describe() for cs in s.cert_signers]
        return out

    # ---- Sigstore bundles next to files -------------------------------------------------------------
    def _check_bundles(self, ctx: GateContext, art: Artifact, trusted_root: Any) -> None:
        from .verify import DigestMismatch, InvalidSignature, NotAllowed, Verified, verify_file_bundle

        if art.path.is_dir():
            files = [p for p in sorted(art.path.rglob("*")) if p.is_file() and not p.name.endswith(BUNDLE_SUFFIXES)
                     and not any_match(p.relative_to(art.path).as_posix(), [*_ROOT_IGNORE, *art.ignore_paths])]
            if not self._leftover_bundles(ctx, art):
                return
        else:
            files = [art.path]
        for f in files:
            sig = art.signature if art.signature and not art.path.is_dir() else next(
                (f.with_name(f.name + sfx) for sfx in BUNDLE_SUFFIXES if f.with_name(f.name + sfx).is_file()), None)
            if sig is None or not sig.is_file():
                ctx.add("SIG001", f"no Sigstore bundle ({f.name}.sigstore.json) for this file", f, key="bundle")
                continue
            if "sigstore" not in art.methods:
                ctx.add("SIG005", "signed with a Sigstore bundle, but the policy does not accept the sigstore method", sig,
                        key="bundle", found="sigstore", method="sigstore", allowed=list(art.methods))
                continue
            if not art.signers:
                ctx.error("a Sigstore bundle needs allowed signers (--identity/--issuer or gates.signature.signers)", f)
                continue
            try:
                v: Verified = verify_file_bundle(f, sig, trusted_root(), signers_policy(art.signers))
            except DigestMismatch as exc:
                extra = exc.signer.to_fields() if exc.signer else {}
                ctx.add("SIG002", exc.reason, f, key="bundle", expected=exc.expected, actual=exc.actual, signature=ctx.display(sig), **extra)
                continue
            except NotAllowed as exc:
                ctx.add("SIG005", exc.reason, sig, key="bundle", found=exc.found, method="sigstore",
                        allowed=[sp.describe() for sp in art.signers])
                continue
            except (InvalidSignature, oms.FormatError) as exc:
                ctx.add("SIG006", getattr(exc, "reason", str(exc)), sig, key="bundle")
                continue
            ctx.scanned(f, 1)
            ctx.add("SIG010", f"Sigstore bundle verified: {v.describe()}", f, key="bundle", blocking=False,
                    signature=ctx.display(sig), **v.to_fields())


# the signature file and git files at the top of the directory, as model-signing ignores them; a
# bare glob would match at any depth and let ``weights/.github/x.pkl`` or ``sub/model.sig`` in unsigned
_ROOT_IGNORE = tuple(f"/{p}" for p in DEFAULT_IGNORE)


def cli_ignore_paths(values: list[str]) -> list[str]:
    """``--ignore-paths`` as model_signing's CLI takes them: relative to the working directory
    (or absolute). Each value is kept as given (a path relative to the model directory, as the
    policy writes them) and also as an absolute path, which :func:`ignore_globs` relates to each
    artifact."""
    out: list[str] = []
    for v in values:
        out.append(v)
        if not os.path.isabs(v):
            out.append(os.path.abspath(v))
    return out


def ignore_globs(artifact: Path, entries: list[str] | tuple[str, ...]) -> list[str]:
    """Verifier ignore entries as globs relative to ``artifact``: relative entries as they are;
    absolute ones (from the command line) only when they lie inside the artifact, as the path
    and everything under it. An absolute path elsewhere does not concern this artifact."""
    out: list[str] = []
    base = Path(os.path.abspath(artifact))
    for e in entries:
        if not os.path.isabs(e):
            out.append(e)
            continue
        try:
            rel = Path(os.path.abspath(e)).relative_to(base).as_posix()
        except ValueError:
            continue
        if rel and rel != ".":
            out += [rel, rel + "/**"]
    return out


def detect_file_format(path: Path, signature: Path | None) -> str:
    """``oms`` or ``bundle`` for a single file, by the signature's content: model_signing signs a
    file as a one-resource OMS manifest (key, certificate or Sigstore), while a plain Sigstore
    bundle (``<file>.sigstore.json``) signs its bytes or an in-toto statement naming it. Without
    an explicit signature, a bundle next to the file wins, then an OMS ``model.sig`` beside it."""
    if signature is None:
        if any(path.with_name(path.name + sfx).is_file() for sfx in BUNDLE_SUFFIXES):
            return "bundle"
        signature = path.parent / "model.sig"
        if not signature.is_file():
            return "bundle"
    try:
        return "oms" if oms.is_oms_signature(oms.read_bundle_json(signature)) else "bundle"
    except (oms.FormatError, OSError):
        return "bundle"  # the bundle check reports what is wrong with it


def _reclaim_target(args: argparse.Namespace) -> None:
    """``--ignore-paths a b MODEL_DIR`` swallows the positional PATH (``nargs='+'``). When no PATH
    was given and the last ignore path is itself a signed artifact (a directory holding
    ``model.sig``, or a file with a bundle next to it), it was meant as the PATH."""
    if getattr(args, "paths", None) or len(args.ignore_paths) < 2:
        return
    last = Path(args.ignore_paths[-1])
    signed = (last.is_dir() and (last / "model.sig").is_file()) or (
        last.is_file() and any(last.with_name(last.name + s).is_file() for s in BUNDLE_SUFFIXES))
    if signed:
        args.paths = [args.ignore_paths.pop()]

