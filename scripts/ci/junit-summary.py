"""The integration legs' JUnit reports (nextest's `[profile.ci.junit]`) as one
Markdown summary: a row per leg (tests, passed, failed, skipped, time), the
totals, then every failed test with the start of its message.

    python3 scripts/ci/junit-summary.py DIR >>"$GITHUB_STEP_SUMMARY"

DIR holds one folder per leg, named after its artifact (`junit-<variant>-<K>`,
as actions/download-artifact lays them out), each with a `junit.xml`; a report
straight under DIR counts as a leg named after its file. It only reports: a
leg without a report is listed as such, and the exit code is 0 unless a report
cannot be read (2). Which jobs failed is the workflow's to decide.
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

MESSAGE_LINES = 3


def leg_name(report, root):
    relative = report.relative_to(root)
    if len(relative.parts) > 1:
        name = relative.parts[0]
    else:
        name = report.stem
    return name.removeprefix("junit-")


def read(report):
    """(tests, failed, skipped, wall seconds, [(test, message)]) of one report."""
    tree = ET.parse(report)
    tests = failed = skipped = 0
    # The run's wall time; the tests' own times add up to more when they overlap.
    seconds = float(tree.getroot().get("time") or 0)
    failures = []
    for suite in tree.getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            tests += 1
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            if problem is not None:
                failed += 1
                text = problem.get("message") or (problem.text or "").strip()
                lines = [line for line in text.splitlines() if line.strip()][:MESSAGE_LINES]
                failures.append((f"{suite.get('name')} {case.get('name')}", "\n".join(lines)))
            elif case.find("skipped") is not None:
                skipped += 1
    return tests, failed, skipped, seconds, failures


def summary(root):
    root = Path(root)
    reports = sorted(root.rglob("*.xml")) if root.is_dir() else []
    out = ["## Integration suite", ""]
    if not reports:
        out.append(f"No JUnit report under `{root}`: no integration leg got as far as running tests.")
        return "\n".join(out) + "\n"
    out += ["| leg | tests | passed | failed | skipped | time |", "|---|---:|---:|---:|---:|---:|"]
    totals = [0, 0, 0, 0.0]
    all_failures = []
    for report in reports:
        leg = leg_name(report, root)
        tests, failed, skipped, seconds, failures = read(report)
        passed = tests - failed - skipped
        mark = "❌ " if failed else ""
        out.append(f"| {mark}{leg} | {tests} | {passed} | {failed} | {skipped} | {seconds:.1f} s |")
        for i, value in enumerate((tests, failed, skipped, seconds)):
            totals[i] += value
        all_failures += [(leg, test, message) for test, message in failures]
    tests, failed, skipped, seconds = totals
    out.append(
        f"| **all {len(reports)} legs** | **{tests}** | **{tests - failed - skipped}** | **{failed}** "
        f"| **{skipped}** | **{seconds:.1f} s** |"
    )
    out.append("")
    if all_failures:
        out += [f"### {len(all_failures)} failed", ""]
        for leg, test, message in all_failures:
            out.append(f"- **{leg}**: `{test}`")
            if message:
                out += ["  ```", *("  " + line for line in message.splitlines()), "  ```"]
    else:
        out.append(f"All {tests} tests passed.")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 1:
        print("usage: junit-summary.py DIR", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(summary(argv[0]))
    except (ET.ParseError, OSError) as e:
        print(f"error: cannot read a JUnit report under {argv[0]}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
