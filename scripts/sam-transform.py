#!/usr/bin/env python3
"""Runs the SAM transform on a template offline, as CloudFormation runs it at deploy, and writes the
transformed template (what is really deployed) as JSON.

`sam validate --lint`, cfn-lint and `sam build` never run the transform, so a template they pass can
still be rejected at deploy. This runs the transform itself: `aws-sam-translator`, the package that
the SAM CLI ships and that AWS runs for `Transform: AWS::Serverless-2016-10-31`. It needs a region
(AWS_DEFAULT_REGION, else eu-central-1) and no credentials: nothing here calls AWS. Managed policies
named in the template would be looked up in IAM by the transform; Baton's template names none, so
the loader is an empty map, and a policy name added later fails here instead of quietly at deploy.

Local `CodeUri` paths become a placeholder S3 location, as `sam package` would make them (and as
`sam validate` does): the transform accepts only S3 code locations.

Usage: python3 scripts/sam-transform.py [TEMPLATE] [OUTPUT]
       (default infra/template.yaml and .aws-sam/transformed.json; exits 1 with the transform's
       errors)
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
# Nothing is called on AWS; keep a user's profile or credentials out of it all the same.
for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(name, None)

from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

PLACEHOLDER_CODE = {"Bucket": "baton-transform-check", "Key": "placeholder.zip"}


class NoManagedPolicies:
    """A managed-policy loader that knows no policy names and needs no AWS access."""

    def load(self):
        return {}


def place_code(template):
    """Replaces local code paths by a placeholder S3 location, as `sam package` would."""
    function_globals = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = dict(PLACEHOLDER_CODE)
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            properties = resource.setdefault("Properties", {})
            if isinstance(properties.get("CodeUri"), str) or "CodeUri" not in function_globals:
                properties["CodeUri"] = dict(PLACEHOLDER_CODE)


def main():
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml")
    output = Path(sys.argv[2] if len(sys.argv) > 2 else ".aws-sam/transformed.json")
    template = yaml_parse(source.read_text())
    place_code(template)
    try:
        transformed = transform(template, {}, NoManagedPolicies())
    except InvalidDocumentException as e:
        print(f"{source}: the SAM transform rejects the template:", file=sys.stderr)
        for cause in e.causes:
            print(f"  - {cause.message}", file=sys.stderr)
        sys.exit(1)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(transformed, indent=2) + "\n")
    resources = transformed.get("Resources", {})
    print(f"{source}: the SAM transform passes; {len(resources)} resources written to {output}")


if __name__ == "__main__":
    main()
