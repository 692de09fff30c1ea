#!/usr/bin/env python3
"""Loads an OSCAL assessment-results JSON file with compliance-trestle's pydantic models
(`AssessmentResults.oscal_read`, strict: unknown fields, bad UUIDs, tokens or dates are errors)
and prints what it read as JSON."""
import json
import pathlib
import sys

from trestle.oscal.assessment_results import AssessmentResults  # missing package: test fails

NS = "https://conform.dev/ns/oscal"


def prop(obj, name):
    return [p.value for p in (obj.props or []) if p.name == name and str(p.ns).rstrip("/") == NS]


def main(path):
    ar = AssessmentResults.oscal_read(pathlib.Path(path))
    if ar is None:
        print("trestle read nothing", file=sys.stderr)
        return 1
    result = ar.results[0]
    observations = result.observations or []
    findings = result.findings or []
    out = {
        "uuid": ar.uuid,
        "oscal_version": ar.metadata.oscal_version.root.root
        if hasattr(ar.metadata.oscal_version.root, "root") else str(ar.metadata.oscal_version.root),
        "import_ap": ar.import_ap.href,
        "back_matter_resources": [r.uuid for r in (ar.back_matter.resources or [])] if ar.back_matter else [],
        "controls": sorted(c.control_id for sel in result.reviewed_controls.control_selections
                           for c in (getattr(sel, "include_controls", None) or [])),
        "observations": len(observations),
        "observation_finding_ids": sorted(v for o in observations for v in prop(o, "finding-id")),
        "evidence": sorted(e.href for o in observations for e in (o.relevant_evidence or [])),
        "findings": [{
            "target": f.target.target_id,
            "state": f.target.status.state.value,
            "grade": (prop(f, "nonconformity-grade") or [None])[0],
            "related": len(f.related_observations or []),
        } for f in findings],
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
