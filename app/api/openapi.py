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
        "paths": {path: dict(ops) for path, ops in sorted(PATHS.items())},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        },
    }
