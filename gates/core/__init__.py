"""The shared core: policy, findings, runner, reports and CLI. It imports no gate."""
