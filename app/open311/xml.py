"""GeoReport v2 documents as JSON or XML, from the same plain data.

The views build JSON-shaped data (dicts, lists, strings, numbers, booleans, None); this
module turns it into either format. ElementTree is safe for *generating* XML (the
parser-side attacks it is vulnerable to need a parser; tests parse with defusedxml).
"""
import json
import re
import xml.etree.ElementTree as ET

from flask import Response

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
#: The spec wants the declaration, with encoding="UTF-8", before the root element;
#: ElementTree's own declaration uses single quotes and a lower-case name.
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

#: The element of each item of a list, by the list's element (root or nested), as in the spec.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


#: Characters XML 1.0 cannot carry at all: one in a description would break the whole feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value):
    """A scalar as element text: booleans as true/false, None as an empty element."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element, value):
    """Put ``value`` into ``element``: dicts become child elements, lists repeated item elements."""
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, item_tag), item)
    else:
        element.text = _text(value)


def xml_bytes(root_tag, data):
    """The whole XML document, declaration included, as UTF-8 bytes."""
    root = ET.Element(root_tag)
    _fill(root, data)
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode")).encode("utf-8")


def json_bytes(data):
    """The JSON document as UTF-8 bytes (non-ASCII kept as is: the spec mandates UTF-8)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(fmt, root_tag, data, status=200, headers=None):
    """A response in ``fmt`` ("json" or "xml"); ``root_tag`` names the XML root element."""
    if fmt == "xml":
        return Response(xml_bytes(root_tag, data), status=status, content_type=XML_TYPE, headers=headers)
    return Response(json_bytes(data), status=status, content_type=JSON_TYPE, headers=headers)


def render_errors(fmt, status, description, headers=None):
    """The spec's error document: [{"code", "description"}] / <errors><error>…</error></errors>."""
    return render(fmt, "errors", [{"code": status, "description": description}], status=status, headers=headers)
