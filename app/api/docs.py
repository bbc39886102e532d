"""/api/v1/docs: the OpenAPI document as a page of the site, drawn on the server from
the document itself (operations, parameters, bodies, responses, schemas). No script and
no third-party viewer: it works under the site's CSP, without JavaScript, at 360 px.
The document is English; the page shows its texts translated (they are marked with
schemas.N_) and says the rest in the page's language."""

from __future__ import annotations

import json

from flask import current_app
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import PREFIX
from . import pages_bp
from .errors import MESSAGES

METHODS = ("get", "post", "put", "patch", "delete")
OUTCOMES = {
    200: _l("Done."),
    201: _l("Created."),
    409: _l("Not possible in the assessment's present state (submitted, or not yet)."),
}
WHERE = {"path": _l("in the path"), "query": _l("in the query"), "header": _l("in a header")}
WHO = {
    "assessmentToken": _l("The assessment's private token"),
    "apiKey": _l("An association's API key"),
}


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


def type_parts(schema: dict) -> list[tuple[str, str | None]]:
    """A JSON schema as short text: [(text, link to a schema on this page or None)]."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return [(name, f"#schema-{name}")]
    for combined in ("anyOf", "oneOf"):
        if combined in schema:
            parts = []
            for index, option in enumerate(schema[combined]):
                parts += [(" | ", None)] if index else []
                parts += type_parts(option)
            return parts
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    parts = []
    for index, kind in enumerate(kinds):
        parts += [(" | ", None)] if index else []
        if kind == "array":
            parts += [("[", None), *type_parts(schema.get("items", {})), ("]", None)]
        elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            parts += [("{id: ", None), *type_parts(schema["additionalProperties"]), ("}", None)]
        else:
            parts.append((kind, None))
    if "enum" in schema:
        parts.append((" (" + ", ".join(str(v) for v in schema["enum"]) + ")", None))
    return parts


def _resolve(spec: dict, item: dict | str, kind: str) -> dict:
    if isinstance(item, dict) and "$ref" in item:
        return spec["components"][kind][_ref_name(item["$ref"])]
    return item


def _json_schema(content: dict | None) -> dict | None:
    return (content or {}).get("application/json", {}).get("schema")


def operations(spec: dict) -> list[dict]:
    found = []
    for path, item in spec["paths"].items():
        shared = [_resolve(spec, p, "parameters") for p in item.get("parameters", [])]
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = shared + [
                _resolve(spec, p, "parameters") for p in operation.get("parameters", [])
            ]
            body = operation.get("requestBody")
            security = [name for need in operation.get("security", []) for name in need]
            found.append(
                {
                    "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                    "method": method.upper(),
                    "path": path,
                    "summary": _(operation.get("summary", "")),
                    "description": _(operation.get("description", "")),
                    "who": [str(WHO[name]) for name in security],
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": str(WHERE.get(p["in"], p["in"])),
                            "type": type_parts(p.get("schema", {})),
                            "required": p.get("required", False),
                            "description": _(p["description"]) if p.get("description") else "",
                        }
                        for p in parameters
                    ],
                    "body": type_parts(_json_schema(body["content"])) if body else None,
                    "responses": [
                        _response(spec, code, response)
                        for code, response in operation["responses"].items()
                    ],
                }
            )
    return found


def _response(spec: dict, code: str, response: dict | str) -> dict:
    schema = _json_schema(_resolve(spec, response, "responses").get("content"))
    return {
        "code": code,
        "meaning": str(OUTCOMES.get(int(code)) or MESSAGES.get(int(code)) or ""),
        "type": type_parts(schema) if schema else [],
    }


def schemas(spec: dict) -> list[dict]:
    """The schemas the document uses (flask-smorest also defines one for pagination)."""
    text = json.dumps(spec)
    return [
        {
            "name": name,
            "properties": [
                {
                    "name": field,
                    "type": type_parts(definition),
                    "required": field in schema.get("required", []),
                    "description": _(definition["description"])
                    if definition.get("description")
                    else "",
                }
                for field, definition in schema.get("properties", {}).items()
            ],
        }
        for name, schema in sorted(spec["components"].get("schemas", {}).items())
        if f'"#/components/schemas/{name}"' in text
    ]


@pages_bp.get("/docs")
def page():
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    spec = api.spec.to_dict()
    return render_template(
        "api/docs.html",
        info=spec["info"],
        base=PREFIX,
        document=url_for("api-docs.openapi_json"),
        operations=operations(spec),
        schemas=schemas(spec),
        description=_(spec["info"]["description"]),
    )
