"""shellcheck on the `run:` blocks of GitHub workflows (what actionlint does,
without needing Go to build actionlint).

    python scripts/ci/workflow-run-blocks.py .github/workflows/*.yml

Each bash `run:` block is checked as GitHub runs it (`bash -e`, with
`set -o pipefail` when `shell: bash` is explicit); a `${{ ... }}` expression
is replaced by underscores of its length, so columns still match. Findings
name the workflow, the job, the step and the line in the workflow file.
Exits 1 on a finding. Needs ruamel.yaml (from requirements/ci-tools.txt).
"""

import re
import subprocess
import sys

from ruamel.yaml import YAML

EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)


def blocks(path):
    """(job, step name, first line of the script in the file, shell, script)."""
    doc = YAML(typ="rt").load(open(path, encoding="utf-8"))
    workflow_shell = ((doc.get("defaults") or {}).get("run") or {}).get("shell")
    for job_id, job in (doc.get("jobs") or {}).items():
        job_shell = ((job.get("defaults") or {}).get("run") or {}).get("shell")
        for index, step in enumerate(job.get("steps") or []):
            if "run" not in step:
                continue
            shell = step.get("shell") or job_shell or workflow_shell or "default"
            # A block scalar's text starts on the line after `run: |`.
            line = step.lc.value("run")[0] + 1
            if "\n" in step["run"].rstrip("\n"):
                line += 1
            yield job_id, step.get("name") or f"step {index + 1}", line, shell, step["run"]


def main(paths):
    found = False
    for path in paths:
        for job, step, line, shell, script in blocks(path):
            if shell not in ("default", "bash"):
                continue
            flags = "set -e" if shell == "default" else "set -eo pipefail"
            text = EXPRESSION.sub(lambda m: "_" * len(m.group(0)), script)
            # The header keeps shellcheck's line numbers = script lines + 2.
            source = f"#!/usr/bin/env bash\n{flags}\n{text}"
            result = subprocess.run(
                ["shellcheck", "--format=gcc", "-"],
                input=source,
                capture_output=True,
                text=True,
            )
            if result.returncode == 0:
                continue
            found = True
            for finding in result.stdout.splitlines():
                # "-:LINE:COL: level: message [SCxxxx]"
                parts = finding.split(":", 3)
                if len(parts) == 4 and parts[1].isdigit():
                    where = f"{path}:{line + int(parts[1]) - 3}"
                    print(f"{where}: job {job}, {step} (column {parts[2]} of the script):{parts[3]}")
                else:
                    print(f"{path}: job {job}, {step}: {finding}")
            if result.stderr:
                print(result.stderr, end="", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
