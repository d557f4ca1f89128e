"""The OpenAPI 3.1 document, assembled from the operations feature modules register."""
from flask import current_app

#: path -> {method: operation}; filled by feature modules with :func:`add_operation`.
PATHS = {}
#: name -> schema
SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "examples": ["not_found"]},
                    "message": {"type": "string"},
                },
            }
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["ok", "error"]}, "reason": {"type": "string"}},
    },
}


def add_operation(path, method, operation):
    PATHS.setdefault(path, {})[method.lower()] = operation


def add_schema(name, schema):
    SCHEMAS[name] = schema


#: name -> examples of that schema (app/api/examples.py), added to the document when it is built.
EXAMPLES = {}


def add_examples(name, *examples):
    EXAMPLES.setdefault(name, []).extend(examples)


def _schemas():
    return {name: ({**schema, "examples": schema.get("examples", []) + EXAMPLES[name]} if name in EXAMPLES else schema)
            for name, schema in SCHEMAS.items()}


#: Answers any operation may give: a malformed request (a NUL character anywhere), the rate limit.
COMMON_RESPONSES = {
    "400": {"description": "The request is malformed, or a parameter is invalid",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "429": {"description": "Too many requests: see the Retry-After header",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
}


def _with_common_responses(operation):
    responses = dict(operation.get("responses", {}))
    for status, response in COMMON_RESPONSES.items():
        responses.setdefault(status, response)
    return {**operation, "responses": responses}


def document():
    """The whole document, with the server URL from BASE_URL."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Piazza API",
            "version": "1.0.0",
            "description": "Public data and citizen actions of Piazza, the civic participation platform. "
                           "Errors are JSON objects {\"error\": {\"code\", \"message\"}}.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": current_app.config["BASE_URL"].rstrip("/") + "/api/v1"}],
        "paths": {path: {method: _with_common_responses(op) for method, op in ops.items()}
                  for path, ops in sorted(PATHS.items())},
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        },
    }
