"""Checks Subsonic JSON answers against the OpenSubsonic OpenAPI schemas (tests/schema/openapi).

Usage: validate_json.py SCHEMAS DIR
Each file in DIR is `<method>.<n>.json`, one answer of that method; it is checked against
`SCHEMAS/endpoints/<method>/<Method>Response.json`, or, for a method that answers with the envelope
alone (`ping`, `star`, ...), against `SCHEMAS/schemas/SubsonicResponse.json`. Prints every failure;
exits 1 if any.
"""

import json
import pathlib
import sys

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

schemas = pathlib.Path(sys.argv[1]).resolve()
answers = pathlib.Path(sys.argv[2])


def retrieve(uri: str) -> Resource:
    path = pathlib.Path(uri.removeprefix("file://"))
    return Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT7)


# Methods whose answer the description shares with another method's.
SHARED = {"getAlbumInfo2": "getAlbumInfo"}

registry = Registry(retrieve=retrieve)
failures = 0
checked = 0
for answer in sorted(answers.glob("*.json")):
    method = answer.name.split(".")[0]
    folder = schemas / "endpoints" / SHARED.get(method, method)
    found = [p for p in folder.glob("*Response.json") if not p.name.endswith("SuccessResponse.json")]
    if not folder.exists():
        found = [schemas / "schemas" / "SubsonicResponse.json"]
    if len(found) != 1:
        print(f"{answer.name}: no schema for {method}")
        failures += 1
        continue
    schema = {"$ref": found[0].as_uri()}
    validator = Draft7Validator(schema, registry=registry)
    errors = list(validator.iter_errors(json.loads(answer.read_text())))
    checked += 1
    for error in errors[:5]:
        failures += 1
        print(f"{answer.name}: {error.message} at {list(error.absolute_path)}")
        for context in (error.context or [])[:6]:
            print(f"    {context.message} at {list(context.absolute_path)}")
print(f"{checked} answers checked, {failures} failures")
sys.exit(1 if failures else 0)
