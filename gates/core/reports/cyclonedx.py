"""CycloneDX 1.6 JSON: the run as an ML bill of materials.

Built with ``cyclonedx-python-lib`` from what the gates saw, without importing any gate:

- models: the ``machine-learning-model`` components gates report through ``ctx.component``
  (files as ``file`` sub-components with SHA-256, licences, base models as pedigree ancestors),
  plus every file the model gate scanned that no reported model covers (hashed here);
- datasets: every file the pii gate scanned, as a ``data`` component with its SHA-256 and the
  pii verdict and entity types as properties;
- dependencies: the ``library`` components gates report (``pkg:pypi/name@version``) and, in
  ``vulnerabilities``, every advisory the deps gate found (``DEPS001``; ignored ones ``DEPS007``
  with the ignore as analysis), with their CVSS or GHSA ratings;
- every gate's verdict, each signature result and the policy's SHA-256 as properties.

The library does not model ``modelCard`` yet (cyclonedx-python-lib 11 leaves it out), so the
model card (task, datasets) is added to the serialised JSON by bom-ref, and so are each model's
``file`` sub-components (the library's per-component bookkeeping made 10,000 files take 46 s);
the tests validate the result strictly against the official 1.6 schema the library ships.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import stat
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ... import __version__
from ..errors import UsageError
from ..findings import Component as Seen
from ..findings import Finding, GateResult
from ..hygiene import clean, clean_name
from ..runner import RunResult
from .common import verdict

PREFIX = "mlsec-gates"
_CHUNK = 1 << 20


def render(run: RunResult) -> str:
    """The run as a CycloneDX 1.6 JSON document (see the module docstring for what it lists)."""
    return json.dumps(to_dict(run), indent=2) + "\n"


def to_dict(run: RunResult) -> dict[str, Any]:
    """The BOM as a JSON-ready dict. Raises :class:`UsageError` when cyclonedx-python-lib is
    not installed (it comes with the ``provenance`` extra)."""
    try:
        from cyclonedx.output.json import JsonV1Dot6
    except ImportError:
        raise UsageError("--format cyclonedx needs cyclonedx-python-lib (pip install 'mlsec-gates[provenance]')") from None

    bom, cards, parts = _Builder(run).build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no dependencies defined" style notices are not errors here
        doc = json.loads(JsonV1Dot6(bom).output_as_string())
    _add_model_cards(doc.get("components", []), cards)
    _add_files(doc.get("components", []), parts)
    return doc


class _Builder:
    """Collects components by bom-ref, then assembles the library's ``Bom``."""

    def __init__(self, run: RunResult) -> None:
        self.run = run
        self.by_gate: dict[str, GateResult] = {r.gate: r for r in run.results}
        self.components: dict[str, Any] = {}
        self.cards: dict[str, dict[str, Any]] = {}
        self.parts: dict[str, list[dict[str, Any]]] = {}
        self.findings_by_path: dict[str, list[Finding]] = defaultdict(list)
        for f in run.findings:
            if f.path:
                self.findings_by_path[f.path].append(f)

    # ---- assembly ------------------------------------------------------------------------------
    def build(self):
        from cyclonedx.model.bom import Bom, BomMetaData
        from cyclonedx.model.component import Component, ComponentType

        seen = [c for r in self.run.results for c in r.inventory]
        covered: set[str] = set()
        for c in seen:
            if c.kind == "machine-learning-model":
                self._model(c)
                covered.add(c.path)
                covered.update(p.path for p in c.parts)
        for s in self._scanned("model"):
            if s not in covered:
                self._file(s)
                covered.add(s)
        # a signed file a signature finding names (changed, unsigned) that no model component
        # holds: the BOM still lists it, with the signature verdict
        for f in self.by_findings("signature"):
            if f not in covered and Path(f).is_file():
                self._file(f)
                covered.add(f)
        for s in self._scanned("pii"):
            self._data(s)
        for c in seen:
            if c.kind == "library":
                self._library(c)
        vulns = self._vulnerabilities()
        root = Component(type=ComponentType.APPLICATION, name=clean_name(Path(self.run.root).resolve().name or "root"),
                         bom_ref="root")
        meta = BomMetaData(component=root, properties=self._run_properties(), timestamp=_timestamp(self.run.started_at))
        meta.tools.components.add(Component(type=ComponentType.APPLICATION, name="mlsec-gates", version=__version__,
                                            bom_ref="tool:mlsec-gates"))
        bom = Bom(metadata=meta, components=list(self.components.values()), vulnerabilities=vulns)
        return bom, self.cards, self.parts

    def by_findings(self, gate: str) -> list[str]:
        """The file paths ``gate``'s findings name, in report order, once each."""
        return list(dict.fromkeys(f.path for f in self.run.findings if f.gate == gate and f.path))

    def _scanned(self, gate: str) -> list[str]:
        r = self.by_gate.get(gate)
        return [s.path for s in r.files] if r is not None else []

    # ---- components ----------------------------------------------------------------------------
    def _model(self, c: Seen) -> None:
        from cyclonedx.model import HashAlgorithm, HashType
        from cyclonedx.model.component import Component, ComponentType, Pedigree

        ref = _unique(self.components, f"model:{clean_name(c.path or c.name)}")
        hashes = list(c.hashes) or ([("SHA-256", h)] if not c.parts and (h := _sha256(c.path)) else [])
        parts = []
        for p in c.parts:
            ph = list(p.hashes) or ([("SHA-256", h)] if (h := _sha256(p.path)) else [])
            part: dict[str, Any] = {"type": "file", "bom-ref": f"{ref}#file:{clean_name(p.name)}", "name": clean_name(p.name)}
            if ph:
                part["hashes"] = [{"alg": "SHA-256", "content": v} for _, v in ph]
            part_props = [{"name": x.name, "value": x.value} for x in self._verdicts(p.path)]
            if part_props:
                part["properties"] = part_props
            parts.append(part)
        if parts:
            self.parts[ref] = parts
        details = dict(c.details)
        ancestors = [
            Component(type=ComponentType.MACHINE_LEARNING_MODEL, name=clean_name(b), bom_ref=f"{ref}#base:{clean_name(b)}", purl=_hf_purl(b))
            for b in details.get("base_models") or []
        ]
        props = _props({"provenance:format": details.get("format"), "provenance:origin": ", ".join(details.get("origin") or []) or None,
                        "provenance:custom_code": _bool(details.get("custom_code")), "provenance:card": details.get("card")})
        props += self._verdicts(c.path, prefix_match=bool(c.parts))
        self.components[ref] = Component(
            type=ComponentType.MACHINE_LEARNING_MODEL, name=clean_name(c.name), version=clean_name(c.version) if c.version else None,
            bom_ref=ref, hashes=[HashType(alg=HashAlgorithm.SHA_256, content=v) for _, v in hashes],
            licenses=_licenses(c.licenses), properties=props,
            pedigree=Pedigree(ancestors=ancestors) if ancestors else None,
        )
        card = {k: v for k, v in (("task", details.get("task")), ("datasets", details.get("datasets"))) if v}
        if card:
            self.cards[ref] = card

    def _file(self, path: str) -> None:
        """A file the model gate scanned that no gate reported as (part of) a model."""
        from cyclonedx.model import HashAlgorithm, HashType
        from cyclonedx.model.component import Component, ComponentType

        ref = _unique(self.components, f"file:{clean_name(path)}")
        h = _sha256(path)
        self.components[ref] = Component(type=ComponentType.FILE, name=clean_name(path), bom_ref=ref,
                                         hashes=[HashType(alg=HashAlgorithm.SHA_256, content=h)] if h else [],
                                         properties=self._verdicts(path))

    def _data(self, path: str) -> None:
        from cyclonedx.model import HashAlgorithm, HashType
        from cyclonedx.model.component import Component, ComponentType

        ref = _unique(self.components, f"data:{clean_name(path)}")
        h = _sha256(path)
        pii = [f for f in self.findings_by_path.get(path, []) if f.gate == "pii"]
        entities = sorted({clean_name(f.entity) for f in pii if f.entity})
        props = _props({"pii:verdict": _worst(pii), "pii:entities": ", ".join(entities) or None})
        props += self._verdicts(path, skip=("pii",))
        self.components[ref] = Component(type=ComponentType.DATA, name=clean_name(path), bom_ref=ref,
                                         hashes=[HashType(alg=HashAlgorithm.SHA_256, content=h)] if h else [], properties=props)

    def _library(self, c: Seen) -> None:
        from cyclonedx.model.component import Component, ComponentType
        from packageurl import PackageURL

        try:
            purl = PackageURL.from_string(c.purl) if c.purl else PackageURL(type="generic", name=c.name, version=c.version)
        except ValueError:
            purl = PackageURL(type="generic", name=c.name, version=c.version)
        ref = purl.to_string()
        existing = self.components.get(ref)
        declared = {"declared_in": clean_name(c.path)} if c.path else {}
        if existing is not None:
            existing.properties.update(_props({f"deps:{k}": v for k, v in declared.items()}))
            return
        self.components[ref] = Component(type=ComponentType.LIBRARY, name=clean_name(purl.name), version=clean_name(purl.version) if purl.version else None,
                                         bom_ref=ref, purl=purl, properties=_props({f"deps:{k}": v for k, v in declared.items()}))

    def _library_for(self, package: str, version: str | None) -> str:
        from packageurl import PackageURL

        from_inventory = next((ref for ref, comp in self.components.items() if comp.purl is not None and comp.purl.type == "pypi"
                               and comp.purl.name == _canon(package) and comp.purl.version == version), None)
        if from_inventory:
            return from_inventory
        self._library(Seen(kind="library", name=package, version=version,
                           purl=PackageURL(type="pypi", name=_canon(package), version=version).to_string()))
        return PackageURL(type="pypi", name=_canon(package), version=version).to_string()

    # ---- vulnerabilities -----------------------------------------------------------------------
    def _vulnerabilities(self) -> list[Any]:
        from cyclonedx.model import XsUri
        from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
        from cyclonedx.model.vulnerability import (
            BomTarget,
            BomTargetVersionRange,
            Vulnerability,
            VulnerabilityAnalysis,
            VulnerabilityReference,
            VulnerabilitySource,
        )

        out: dict[str, Any] = {}
        for f in self.run.findings:
            if f.gate != "deps" or f.rule not in ("DEPS001", "DEPS007") or not f.extra.get("advisory"):
                continue
            x = f.extra
            advisory, package, version = str(x["advisory"]), str(x.get("package") or ""), x.get("version")
            lib = self._library_for(package, str(version) if version else None)
            ref = f"vuln:{clean_name(advisory)}:{lib}"
            if ref in out:
                continue
            src = VulnerabilitySource(name="OSV", url=XsUri(f"https://osv.dev/vulnerability/{clean_name(advisory)}"))
            fixed = [clean_name(v) for v in x.get("fixed_versions") or []]
            out[ref] = Vulnerability(
                bom_ref=ref, id=clean_name(advisory), source=src, description=clean(x.get("summary") or "") or None,
                references=[VulnerabilityReference(id=clean_name(a), source=VulnerabilitySource(name="alias")) for a in x.get("aliases") or []],
                ratings=_ratings(x), recommendation=(f"Upgrade to {clean_name(x['safe_version'])}" if x.get("safe_version") else
                                                        (f"Fixed in {', '.join(fixed)}" if fixed else None)),
                affects=[BomTarget(ref=lib, versions=[BomTargetVersionRange(version=clean_name(version), status=ImpactAnalysisAffectedStatus.AFFECTED)]
                                   if version else None)],
                analysis=VulnerabilityAnalysis(detail=f"ignored by policy until {clean_name(x.get('ignore_expires'))}: {clean(x.get('ignore_reason'))}")
                if f.rule == "DEPS007" else None,
                properties=_props({"verdict": verdict(f), "fingerprint": f.fingerprint}),
            )
        return list(out.values())

    # ---- properties ----------------------------------------------------------------------------
    def _run_properties(self) -> list[Any]:
        run = self.run
        values: dict[str, Any] = {"status": run.status.value, "exit_code": str(run.exit_code),
                                  "policy:sha256": run.policy.digest, "policy:path": clean_name(run.policy.path) if run.policy.path else None}
        out = _props(values)
        for r in run.results:
            out += _props({f"gate:{r.gate}": r.status.value})
        for f in run.findings:
            if f.gate == "signature":
                out += _props({f"signature:{f.rule}": f"{verdict(f)}: {clean_name(f.path)}: {clean(f.message)}"})
        return out

    def _verdicts(self, path: str, *, prefix_match: bool = False, skip: Iterable[str] = ()) -> list[Any]:
        """``mlsec-gates:<gate>:verdict`` for every gate with findings on ``path`` (or under it)."""
        if not path:
            return []
        found: list[Finding] = list(self.findings_by_path.get(path, []))
        if prefix_match:
            pre = path.rstrip("/") + "/"
            found += [f for p, fs in self.findings_by_path.items() if p.startswith(pre) for f in fs]
        by_gate: dict[str, list[Finding]] = defaultdict(list)
        for f in found:
            if f.gate not in skip:
                by_gate[f.gate].append(f)
        out = []
        for gate, fs in sorted(by_gate.items()):
            out += _props({f"{gate}:verdict": _worst(fs), f"{gate}:rules": ", ".join(sorted({f.rule for f in fs}))})
            if gate == "signature":
                out += _props({"signature:results": "; ".join(sorted({f"{f.rule} {verdict(f)}" for f in fs}))})
        return out


# ---- helpers -----------------------------------------------------------------------------------
def _props(values: Mapping[str, Any]) -> list[Any]:
    from cyclonedx.model import Property

    return [Property(name=f"{PREFIX}:{k}", value=str(v)) for k, v in values.items() if v not in (None, "")]


def _worst(findings: list[Finding]) -> str:
    if any(f.blocking for f in findings):
        return "blocking"
    if any(not f.waived for f in findings):
        return "warning"
    return "waived" if findings else "clean"


def _bool(v: Any) -> str | None:
    return None if v is None else ("true" if v else "false")


def _licenses(ids: Iterable[str]) -> list[Any]:
    """SPDX ids as ids, SPDX expressions as one expression (CycloneDX allows one or the other),
    anything else (Hugging Face ids such as ``llama3.1``) by name."""
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
    from cyclonedx.spdx import fixup_id, is_expression

    ids = [i for i in ids if i]
    exprs = [i for i in ids if " " in i.strip() and is_expression(i)]
    if exprs:
        return [LicenseExpression(exprs[0] if len(ids) == 1 else " AND ".join(f"({i})" if " " in i else (fixup_id(i) or f"LicenseRef-{_ref(i)}") for i in ids))]
    out = []
    for i in ids:
        spdx = fixup_id(i)
        out.append(DisjunctiveLicense(id=spdx) if spdx else DisjunctiveLicense(name=i))
    return out


def _ref(s: str) -> str:
    return "".join(c if c.isalnum() or c in ".-" else "-" for c in s)


def _ratings(x: Mapping[str, Any]) -> list[Any]:
    from cyclonedx.model.vulnerability import (
        VulnerabilityRating,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
        VulnerabilitySource,
    )

    label = str(x.get("severity_label") or "unknown").lower()
    try:
        sev = VulnerabilitySeverity(label)
    except ValueError:
        sev = VulnerabilitySeverity.UNKNOWN
    vector = x.get("cvss_vector")
    source = str(x.get("severity_source") or "")
    if source == "CVSS_V4" or (vector or "").startswith("CVSS:4"):
        method = VulnerabilityScoreSource.CVSS_V4
    elif (vector or "").startswith("CVSS:3.1"):
        method = VulnerabilityScoreSource.CVSS_V3_1
    elif source.startswith("CVSS_V3") or (vector or "").startswith("CVSS:3"):
        method = VulnerabilityScoreSource.CVSS_V3
    else:
        method = VulnerabilityScoreSource.OTHER
    score = None
    if x.get("cvss_score") is not None:
        try:
            score = Decimal(str(x["cvss_score"]))
        except InvalidOperation:
            score = None
    return [VulnerabilityRating(source=VulnerabilitySource(name="OSV"), score=score, severity=sev,
                                method=method, vector=clean_name(vector) if vector else None)]


def _canon(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _hf_purl(ident: str):
    from packageurl import PackageURL

    org, _, name = ident.partition("/")
    if name and "/" not in name and all(p.replace("-", "").replace("_", "").replace(".", "").isalnum() for p in (org, name)):
        return PackageURL(type="huggingface", namespace=org, name=name)
    return None


def _unique(taken: Mapping[str, Any], ref: str) -> str:
    out, n = ref, 1
    while out in taken:
        n += 1
        out = f"{ref}#{n}"
    return out


def _sha256(path: str) -> str | None:
    """SHA-256 of a regular file the gates scanned (by its display path, as the run saw it)."""
    if not path:
        return None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def _timestamp(started_at: str) -> _dt.datetime:
    try:
        return _dt.datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        return _dt.datetime.now(_dt.timezone.utc)


def _add_files(components: list[dict[str, Any]], parts: Mapping[str, list[dict[str, Any]]]) -> None:
    """Each model's files as ``file`` sub-components, by bom-ref. Built as JSON rather than as
    library objects: cyclonedx-python-lib keeps every component in sorted sets, which took 46 s
    for a BOM of 10,000 files; the strict schema validation in the tests covers these entries."""
    for comp in components:
        files = parts.get(comp.get("bom-ref", ""))
        if files:
            comp["components"] = sorted(files, key=lambda p: p["name"])


def _add_model_cards(components: list[dict[str, Any]], cards: Mapping[str, Mapping[str, Any]]) -> None:
    """CycloneDX ``modelCard`` (task, datasets) on each model component, by bom-ref."""
    for comp in components:
        card = cards.get(comp.get("bom-ref", ""))
        if card:
            params: dict[str, Any] = {}
            if card.get("task"):
                params["task"] = card["task"]
            if card.get("datasets"):
                params["datasets"] = [{"type": "dataset", "name": d} for d in card["datasets"]]
            comp["modelCard"] = {"modelParameters": params}
        _add_model_cards(comp.get("components", []), cards)
