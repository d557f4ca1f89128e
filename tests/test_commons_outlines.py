"""Outlines of urban commons over HTTP: exported in /commons.geojson, sent with the map layer and
shown on the commons' page."""
import html
import json
import re

import pytest
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models.place import District
from app.models.user import Department
from app.seed.demo import seed_places
from tests.http_helpers import english
from tests.test_commons_http import OUTLINE, add_commons


@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture
def places(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        ids = {"district1": db.session.scalar(select(District.id).where(District.number == 1)),
               "department": db.session.scalar(select(Department.id).order_by(Department.id).limit(1))}
    yield ids
    geo.clear_cache()


def _attr(page, element_id, name):
    """The value of attribute ``name`` on the element with id ``element_id``."""
    tag = re.search(rf'<[a-z]+\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', page, re.S)
    assert tag, f"no element with id={element_id!r}"
    value = re.search(rf'\b{re.escape(name)}=(["\'])(.*?)\1', tag.group(0), re.S)
    return html.unescape(value.group(2)) if value else None


# --- showing it -----------------------------------------------------------------------------

def test_the_commons_page_map_carries_the_outline(app, client, places):
    outlined = add_commons(app, "Aiuola", geometry=json.dumps(OUTLINE))
    plain = add_commons(app, "Giardino")
    page = client.get(f"/commons/{outlined}").get_data(as_text=True)
    assert json.loads(_attr(page, "commons-map", "data-outline")) == OUTLINE
    assert _attr(page, "commons-map", "aria-label") == "Map of the commons and its outline"
    assert "place-map.js" in page and "leaflet-geoman" not in page  # no drawing tools for visitors
    page = client.get(f"/commons/{plain}").get_data(as_text=True)
    assert _attr(page, "commons-map", "data-outline") is None and _attr(page, "commons-map", "data-lat") == "45.0637"


def test_the_geojson_export_has_the_outline_as_geometry_and_the_point_in_properties(app, client, places):
    outlined = add_commons(app, "Aiuola", geometry=json.dumps(OUTLINE), lat=45.0637, lon=7.6853)
    data = client.get("/commons.geojson").get_json(force=True)
    feature = next(f for f in data["features"] if f["id"] == outlined)
    assert feature["geometry"] == OUTLINE
    assert (feature["properties"]["lat"], feature["properties"]["lon"]) == (45.0637, 7.6853)


def test_the_map_layer_sends_the_outline_with_the_point(app, client, places):
    outlined = add_commons(app, "Aiuola", geometry=json.dumps(OUTLINE))
    add_commons(app, "Giardino", lat=45.0700, lon=7.6800)
    response = client.get("/api/v1/map/features", query_string={"bbox": "7.58,45.00,7.78,45.15", "zoom": "17",
                                                                "layers": "commons"})
    features = {f["properties"]["title"]: f for f in response.get_json(force=True)["features"]}
    assert features["Aiuola"]["geometry"] == {"type": "Point", "coordinates": [7.6853, 45.0637]}
    assert features["Aiuola"]["properties"]["outline"] == OUTLINE
    assert features["Aiuola"]["id"] == f"commons:{outlined}"
    assert "outline" not in features["Giardino"]["properties"]


def test_the_openapi_document_describes_the_outline_property(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    outline = doc["components"]["schemas"]["MapPointFeature"]["properties"]["properties"]["properties"]["outline"]
    assert outline["properties"]["type"]["enum"] == ["Polygon", "MultiPolygon"]
