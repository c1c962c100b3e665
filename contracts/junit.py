"""JUnit XML for CI: one test case per rule, its failures as the case's failure text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from contracts.context import Rule
from contracts.outcome import Verdict
from contracts.report import describe, grouped


def write(
    path: Path,
    rules: list[Rule],
    verdicts: dict[str, Verdict],
    secrets: dict[str, str],
    seconds: float,
) -> None:
    """Write the report of one run to `path`."""
    suite = ET.Element(
        "testsuite",
        name="contracts",
        tests=str(len(rules)),
        failures=str(sum(1 for v in verdicts.values() if v.failures)),
        skipped=str(sum(1 for v in verdicts.values() if v.status == "skip")),
        time=f"{seconds:.3f}",
    )
    for rule in rules:
        verdict = verdicts[rule.id]
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"contracts.{rule.family}",
            name=rule.id,
            time=f"{verdict.seconds:.3f}",
        )
        if verdict.failures:
            groups = grouped(verdict.failures)
            failure = ET.SubElement(
                case, "failure", message=f"{len(verdict.failures)} failures: {rule.statement}"
            )
            failure.text = "\n\n".join(describe(f, n, secrets) for f, n in groups)
        elif verdict.status == "skip":
            ET.SubElement(case, "skipped", message="; ".join(verdict.skips) or "nothing to check")
        if verdict.skips and verdict.status != "skip":
            ET.SubElement(case, "system-out").text = "not checked: " + "; ".join(verdict.skips)
    root = ET.Element("testsuites")
    root.append(suite)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
