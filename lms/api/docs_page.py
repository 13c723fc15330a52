"""The API's documentation page (``/api/v1/docs``): the OpenAPI document arranged for
reading, operations under their tags and schemas as tables of fields."""

from __future__ import annotations


def type_text(schema: dict) -> str:
    """A schema in words, for the documentation page."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "allOf" in schema:
        return " with ".join(type_text(part) for part in schema["allOf"])
    if "oneOf" in schema:
        return " or ".join(type_text(part) for part in schema["oneOf"])
    kind = schema.get("type", "object")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for one in kinds:
        if one == "array":
            words.append(f"list of {type_text(schema.get('items', {}))}")
        elif one == "string" and "format" in schema:
            words.append({"date-time": "time (UTC)", "date": "date (YYYY-MM-DD)",
                          "uri": "address"}.get(schema["format"], "text"))
        else:
            words.append({"string": "text", "integer": "whole number", "number": "number",
                          "boolean": "true or false", "null": "null",
                          "object": "object"}.get(one, one))
    text = " or ".join(words)
    if "enum" in schema:
        text += ": one of " + ", ".join(str(v) for v in schema["enum"])
    if "minimum" in schema and "maximum" in schema:
        text += f", {schema['minimum']} to {schema['maximum']}"
    return text


def _resolve(item: dict, components: dict, kind: str) -> dict:
    if "$ref" in item:
        return components[kind][item["$ref"].rsplit("/", 1)[-1]]
    return item


def for_page(doc: dict) -> dict:
    """The document arranged for reading: operations under their tags, parameters and
    responses resolved, schemas as tables of fields."""
    components = doc["components"]
    sections = {tag["name"]: {"name": tag["name"], "description": tag["description"],
                              "id": "section-" + tag["name"].lower(), "operations": []}
                for tag in doc["tags"]}
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            parameters = [_resolve(p, components, "parameters")
                          for p in [*shared, *operation["parameters"]]]
            responses = []
            for code, answer in operation["responses"].items():
                answer = _resolve(answer, components, "responses")
                content = answer.get("content", {})
                media, body = next(iter(content.items()), (None, None))
                text = type_text(body["schema"]) if body else ""
                target = text.removesuffix("List") if text in components["schemas"] else None
                if target and text.endswith("List"):
                    text = f"a page of {target}"
                responses.append({"code": code, "description": answer["description"],
                                  "media": media, "schema": text,
                                  "target": "schema-" + target.lower() if target else None})
            sections[operation["tags"][0]]["operations"].append({
                "id": "operation-" + operation["operationId"],
                "method": method.upper(),
                "path": doc["servers"][0]["url"] + path,
                "summary": operation["summary"],
                "description": operation["description"],
                "access": operation["x-access"],
                "writes": method not in ("get", "head"),
                "parameters": [{"name": p["name"], "in": p["in"], "required": p["required"],
                                "description": p["description"],
                                "type": type_text(p["schema"])} for p in parameters],
                "responses": responses,
            })
    schemas = []
    for name, schema in components["schemas"].items():
        if name.endswith("List") or "properties" not in schema:
            continue
        required = set(schema.get("required", []))
        schemas.append({"name": name, "id": "schema-" + name.lower(),
                        "description": schema.get("description", ""),
                        "fields": [{"name": field, "type": type_text(spec),
                                    "description": spec.get("description", ""),
                                    "always": field in required}
                                   for field, spec in schema["properties"].items()]})
    return {"sections": list(sections.values()), "schemas": schemas}
