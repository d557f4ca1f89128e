"""app.geo: which district a point is in, the city's limits, distances, boxes and position checks."""
import json

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app import geo
from app.extensions import db
from app.models.place import District
from app.seed import turin
from app.seed.demo import seed_places


@pytest.fixture
def districts(app_ctx):
    """The eight demo districts (and houses) in the database, and a cold district cache."""
    geo.clear_cache()
    seed_places()
    db.session.commit()
    yield {d.number: d.id for d in db.session.scalars(select(District))}
    geo.clear_cache()


@pytest.mark.parametrize("house", turin.HOUSES, ids=[h[0] for h in turin.HOUSES])
def test_each_neighbourhood_house_lies_in_its_own_district(districts, house):
    slug, _name, _hood, _address, lat, lon, number = house
    assert geo.district_for(lat, lon) == districts[number]
    assert geo.in_city(lat, lon)


@pytest.mark.parametrize("lat, lon", [
    (45.4642, 9.1900),   # Milan
    (45.0703, 7.50),     # Rivoli, west of the city
    (45.20, 7.68),       # north of Falchera
    (0.0, 0.0),
    (-45.07, -7.68),
])
def test_points_outside_the_city_have_no_district(districts, lat, lon):
    assert geo.district_for(lat, lon) is None
    assert not geo.in_city(lat, lon)


def test_a_point_on_a_shared_border_belongs_to_the_lower_numbered_district(districts):
    # 7.655 is the border between district 2 (west) and district 8 (east) south of 45.055.
    assert geo.district_for(45.03, 7.655) == districts[2]


def test_district_outlines_are_cached_until_cleared(districts):
    first = geo.districts()
    assert geo.districts() is first
    geo.clear_cache()
    assert geo.districts() is not first
    assert [d.number for d in geo.districts()] == list(range(1, 9))


def test_committing_a_district_change_clears_the_cache(districts):
    assert geo.district_for(45.066, 7.675) == districts[1]
    centre = db.session.get(District, districts[1])
    # Shrink the centre to its western half: the old east side is no longer in any district.
    centre.geometry = json.dumps({"type": "Polygon", "coordinates": [
        [[7.655, 45.055], [7.670, 45.055], [7.670, 45.078], [7.655, 45.078], [7.655, 45.055]]]})
    db.session.commit()
    assert geo.district_for(45.066, 7.675) is None


def test_without_districts_the_city_is_its_bounding_box(app_ctx):
    geo.clear_cache()
    assert geo.districts() == ()
    assert geo.in_city(45.07, 7.68)
    assert not geo.in_city(45.46, 9.19)
    assert geo.district_for(45.07, 7.68) is None
    assert geo.city_bounds() == geo.TURIN_BOUNDS


def test_city_bounds_enclose_every_district(districts):
    assert geo.city_bounds() == geo.BBox(7.58, 45.005, 7.77, 45.14)


def test_distance_of_two_points_250_m_apart():
    # Piazza Castello, and 250 m due north (1° of latitude is about 111.2 km).
    lat, lon = 45.0711, 7.6857
    assert geo.distance_m(lat, lon, lat + 250 / 111_195, lon) == pytest.approx(250, abs=0.5)
    # ...and 250 m due east: a degree of longitude is shorter by cos(latitude).
    east = lon + 250 / (111_195 * 0.70621)
    assert geo.distance_m(lat, lon, lat, east) == pytest.approx(250, abs=1)


def test_distance_sanity():
    assert geo.distance_m(45.07, 7.68, 45.07, 7.68) == 0
    # Turin to Milan is about 126 km as the crow flies.
    assert geo.distance_m(45.0703, 7.6869, 45.4642, 9.1900) == pytest.approx(126_000, rel=0.02)
    assert geo.distance_m(1, 2, 3, 4) == pytest.approx(geo.distance_m(3, 4, 1, 2))


def test_bbox_around_holds_exactly_the_circle():
    lat, lon = 45.07, 7.68
    box = geo.bbox_around(lat, lon, 500)
    assert box.min_lat < lat < box.max_lat and box.min_lon < lon < box.max_lon
    assert geo.distance_m(lat, lon, box.max_lat, lon) == pytest.approx(500, abs=0.5)
    assert geo.distance_m(lat, lon, lat, box.max_lon) == pytest.approx(500, abs=0.5)
    assert geo.distance_m(lat, lon, box.min_lat, lon) == pytest.approx(500, abs=0.5)


def test_bbox_for_view_matches_web_mercator():
    # At zoom 13 a 256 px tile is 360 / 2**13 degrees of longitude wide.
    box = geo.bbox_for_view(45.07, 7.68, 13, 512, 256)
    assert box.max_lon - box.min_lon == pytest.approx(2 * 360 / 2**13)
    assert (box.min_lat + box.max_lat) / 2 == pytest.approx(45.07, abs=1e-3)
    assert box.min_lat < 45.07 < box.max_lat


@pytest.mark.parametrize("text, expected", [
    ("7.6,45.0,7.7,45.1", geo.BBox(7.6, 45.0, 7.7, 45.1)),
    (" 7.6, 45.0 ,7.7,45.1 ", geo.BBox(7.6, 45.0, 7.7, 45.1)),
    ("-180,-90,180,90", geo.BBox(-180, -90, 180, 90)),
])
def test_parse_bbox_accepts_four_numbers(text, expected):
    assert geo.parse_bbox(text) == expected


@pytest.mark.parametrize("text, message", [
    (None, "required"),
    ("", "required"),
    ("7.6,45.0,7.7", "four numbers"),
    ("7.6,45.0,7.7,45.1,3", "four numbers"),
    ("a,b,c,d", "four numbers"),
    ("7.6,45.0,nan,45.1", "four numbers"),
    ("7.6,45.0,inf,45.1", "four numbers"),
    ("7.6,45.0,190,45.1", "between longitudes"),
    ("7.6,-95,7.7,45.1", "between longitudes"),
    ("7.7,45.0,7.6,45.1", "inverted"),
    ("7.6,45.1,7.7,45.0", "inverted"),
])
def test_parse_bbox_explains_what_is_wrong(app_ctx, text, message):
    with force_locale("en"), pytest.raises(geo.GeoError) as caught:
        geo.parse_bbox(text)
    assert caught.value.code == "invalid_bbox" and caught.value.status == 400
    assert message in caught.value.message


def test_require_in_city_gives_the_district(districts):
    assert geo.require_in_city("45.0535", "7.6810") == districts[8]


@pytest.mark.parametrize("lat, lon, code, message", [
    (45.4642, 9.19, "outside_city", "This place is outside the city of Turin."),
    ("north", 7.68, "invalid_position", "Latitude and longitude must be numbers."),
    (None, 7.68, "invalid_position", "Latitude and longitude must be numbers."),
    (True, 7.68, "invalid_position", "Latitude and longitude must be numbers."),
    (95, 7.68, "invalid_position", "Latitude must be between -90 and 90"),
])
def test_require_in_city_refuses_with_a_clear_message(districts, lat, lon, code, message):
    with force_locale("en"), pytest.raises(geo.GeoError) as caught:
        geo.require_in_city(lat, lon)
    assert caught.value.code == code
    assert message in caught.value.message
