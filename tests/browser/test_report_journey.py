"""The report journey in a real browser, from the issue's "Done means".

A citizen places a report with a photo on the map, is offered the open report of the same
kind a few metres away ("already reported?"), sends theirs anyway; an official of the
responsible department acknowledges it, starts the work and resolves it; the citizen finds
the notifications, opens the report from one of them, reads the timeline and confirms the fix.

The whole journey runs twice: on a desktop (1280 px, English) and on a phone (390 px,
Italian, touch). Screenshots of every step land in tests/artifacts/report-*.png for a person
to look at. Map tiles come from the internet, which tests never reach: every tile request is
aborted, as on a machine without a connection, and Leaflet comes from app/static/vendor.

Visible texts may be Italian or English (the catalogue is still being translated), so the
checks rely on ids, classes, form actions and the data the test wrote (titles, notes);
English words are checked on the English run only.
"""
import math
import re
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import ExifTags, Image, ImageDraw
from playwright.sync_api import expect
from sqlalchemy import func, select

from app import geo
from app.extensions import db
from app.models import Role, User
from app.models.photo import Photo
from app.models.place import Category
from app.models.report import Report, ReportStatus
from app.models.user import Department
from app.reports.services import create_report
from app.seed.demo import seed_places
from tests.browser.conftest import ARTIFACTS, serve
from tests.conftest import ROOT, TEST_PASSWORD

pytestmark = pytest.mark.browser

LEAFLET_JS = ROOT / "app" / "static" / "vendor" / "node_modules" / "leaflet" / "dist" / "leaflet.js"
TILES = "**/tile.openstreetmap.org/**"
#: The submit button of the page's own form (the header holds other forms: contrast, sign-out).
SUBMIT = "#main form[method=post] button[type=submit]"
REPORT_FORM = "#main form.report-form"
PICKER = "#report-picker"
LIVE_BOX = "#nearby-live"
SERVER_BOX = '#main section.nearby-box[aria-labelledby="nearby-title"]'
TIMELINE = "#main ol.timeline > li.timeline-item"
STATUS_BADGE = "#report-title + .item-meta .status"
UNREAD_BADGE = 'header a[href="/notifications"] .badge'

#: The existing report's place, via Nizza 120 (San Salvario), and where the citizen taps: about
#: 35 m further along the street, well inside the 250 m of "already reported?".
EXISTING_POINT = (45.0450, 7.6780)
TAP_TARGET = (45.0453, 7.6782)
EXISTING_TITLE = "Lampione spento in via Nizza 120"
NEW_TITLE = "Due lampioni spenti davanti al civico 118"
NEW_DESCRIPTION = "Da tre sere i due lampioni davanti al 118 di via Nizza restano spenti: il marciapiede è al buio."
ACK_NOTE = "Segnalazione presa in carico: squadra in uscita giovedì."
WORK_NOTE = "Intervento in corso."
RESOLVED_NOTE = "Lampione sostituito"

DEVICES = {
    "desktop": {"locale": "en-US", "viewport": {"width": 1280, "height": 900}},
    "phone": {"locale": "it-IT", "viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    """The conftest's live server (same database, CSRF on), with the vendored Leaflet and its own upload dir."""
    assert LEAFLET_JS.exists(), "Leaflet is not vendored: run `make vendor` (needs npm)"
    instance = tmp_path_factory.mktemp("live-report-instance")
    with serve(database_url, instance, LEAFLET_LOCAL=True, UPLOAD_DIR=str(instance / "uploads")) as server:
        yield server


# --- helpers ----------------------------------------------------------------------------------

def site_problems(page):
    """The page's recorded problems, except the tile requests this test blocks on purpose."""
    return [p for p in page.problems if "tile.openstreetmap.org" not in p]


def offline_page(new_page, device):
    """A recorded page for ``device`` whose tile requests fail, as offline."""
    page = new_page(**DEVICES[device])
    page.route(TILES, lambda route: route.abort())
    return page


def shot(page, name, device, journey="report"):
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{journey}-{name}-{device}.png"), full_page=True)


#: Elements sticking out on the right, to say what makes a page scroll sideways.
WIDE_ELEMENTS = """width => Array.from(document.querySelectorAll("body *"))
  .filter(el => el.getBoundingClientRect().right > width + 0.5)
  .slice(0, 8)
  .map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
       (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
       " right=" + Math.round(el.getBoundingClientRect().right))"""


def no_sideways_scroll(page, device, what):
    # After a click that submits a form, the new document can be read before its stylesheets have
    # loaded (the browser would not paint it yet): measure the page as people see it.
    page.wait_for_load_state("load")
    width = DEVICES[device]["viewport"]["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (f"{what} scrolls sideways at {width} px (scrollWidth {scroll_width}): "
                                   f"{page.evaluate(WIDE_ELEMENTS, width)}")


def sign_in(page, email, live_server):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click(SUBMIT)
    expect(page).to_have_url(live_server("/"))
    expect(page.locator('header form[action="/logout"]')).to_have_count(1)


def mercator_px(lat, lon, zoom):
    """Leaflet's pixel coordinates (EPSG:3857, 256 px tiles) of a point at ``zoom``."""
    scale = 256 * 2 ** zoom
    x = (lon + 180) / 360 * scale
    phi = math.radians(lat)
    y = (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * scale
    return x, y


def gps_photo(path):
    """A small JPEG 'taken on a phone': a street lamp at night, with make, model and GPS in its EXIF."""
    im = Image.new("RGB", (1200, 900), (18, 24, 48))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 700, 1200, 900), fill=(70, 70, 78))          # pavement
    draw.rectangle((585, 180, 615, 700), fill=(40, 40, 40))         # pole
    draw.polygon([(520, 180), (680, 180), (640, 130), (560, 130)], fill=(90, 90, 95))  # dark lamp head
    for x in range(0, 1200, 160):                                   # building windows
        draw.rectangle((x + 20, 60, x + 70, 120), fill=(200, 170, 60))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Fairphone"
    exif[ExifTags.Base.Model] = "FP5"
    exif[ExifTags.Base.DateTime] = "2024:11:12 21:14:03"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (45.0, 2.0, 43.08),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (7.0, 40.0, 41.52),
    }
    im.save(path, "JPEG", quality=90, exif=exif)
    with Image.open(path) as check:  # the upload really carries the position
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    return path


def assert_no_metadata(data, what):
    with Image.open(BytesIO(data)) as im:
        assert im.format == "JPEG", what
        assert dict(im.getexif()) == {}, f"{what} still has EXIF: {dict(im.getexif())}"
        assert "exif" not in im.info and "icc_profile" not in im.info and "comment" not in im.info, what
    assert b"Fairphone" not in data and b"Exif\x00\x00" not in data, what


def wait_until_loaded(page, img):
    img.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())



# --- setup --------------------------------------------------------------------------------------

@pytest.fixture
def journey_people(app, make_user):
    """Places, an official of street lighting, the citizen, and an open lighting report in via Nizza."""
    official = make_user(roles=[Role.official], display_name="Ufficio Illuminazione")
    citizen = make_user(display_name="Chiara B.")
    neighbour = make_user(display_name="Paolo V.")
    with app.app_context():
        seed_places()
        db.session.commit()
        geo.clear_cache()
        lighting = db.session.scalar(select(Department).where(Department.slug == "illuminazione"))
        category = db.session.scalar(select(Category).where(Category.slug == "illuminazione"))
        db.session.get(User, official.id).departments = [lighting]
        db.session.commit()
        existing = create_report(db.session.get(User, neighbour.id), title=EXISTING_TITLE,
                                 description="Il lampione davanti al 120 è spento da una settimana.",
                                 category_id=category.id, lat=EXISTING_POINT[0], lon=EXISTING_POINT[1],
                                 address="Via Nizza 120")
        db.session.commit()
        ids = {"category": category.id, "department": lighting.id, "existing": existing.id}
        db.session.remove()
    return {"official": official, "citizen": citizen, **ids}


def report_rows(app):
    with app.app_context():
        rows = [(r.id, r.title, r.status, r.department_id, r.lat, r.lon)
                for r in db.session.scalars(select(Report).order_by(Report.id))]
        db.session.remove()
        return rows


# --- the journey ----------------------------------------------------------------------------------

@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_report_journey_from_the_map_to_the_confirmed_fix(device, new_page, app, live_server, journey_people,
                                                          tmp_path):
    english = DEVICES[device]["locale"].startswith("en")
    phone = device == "phone"
    people = journey_people
    photo = gps_photo(tmp_path / "IMG_20241112_211403.jpg")

    # ---- 1. The citizen places the report on the map -------------------------------------------
    citizen = offline_page(new_page, device)
    sign_in(citizen, people["citizen"].email, live_server)
    citizen.goto("/reports/new")
    picker = citizen.locator(PICKER)
    expect(picker).to_have_class(re.compile(r"\bleaflet-container\b"))
    expect(citizen.locator(f"{PICKER} .leaflet-control-zoom-in")).to_be_visible()
    expect(citizen.locator("#lat")).to_have_value("")
    expect(citizen.locator(LIVE_BOX)).to_be_hidden()
    citizen.select_option("#category_id", str(people["category"]))

    # Centre the map in the window so that both taps land inside the viewport.
    picker.evaluate("el => el.scrollIntoView({block: 'center'})")
    box = picker.bounding_box()
    centre = {"x": box["width"] / 2, "y": box["height"] / 2}

    def tap(position):
        with citizen.expect_response(lambda r: "/reports/nearby.json" in r.url) as answer:
            if phone:
                picker.tap(position=position)
            else:
                picker.click(position=position)
        assert answer.value.status == 200
        return answer.value.json()

    # A first tap in the middle of the map (Porta Nuova): the pin goes there, nothing is near.
    first = tap(centre)
    expect(citizen.locator(f"{PICKER} .leaflet-marker-pane .leaflet-marker-icon")).to_have_count(1)
    lat0, lon0 = float(citizen.input_value("#lat")), float(citizen.input_value("#lon"))
    start_lat, start_lon = (float(v) for v in picker.get_attribute("data-center").split(","))
    zoom = int(picker.get_attribute("data-zoom"))
    assert geo.distance_m(lat0, lon0, start_lat, start_lon) < 30, "a tap in the middle is not the map's centre"
    assert first["reports"] == []
    expect(citizen.locator(LIVE_BOX)).to_be_hidden()

    # A second tap where the lamps are: moved the same pin, filled #lat/#lon, found the neighbour's report.
    x0, y0 = mercator_px(lat0, lon0, zoom)
    x1, y1 = mercator_px(*TAP_TARGET, zoom)
    target = {"x": centre["x"] + (x1 - x0), "y": centre["y"] + (y1 - y0)}
    assert 5 < target["x"] < box["width"] - 5 and 5 < target["y"] < box["height"] - 5
    found = tap(target)
    expect(citizen.locator(f"{PICKER} .leaflet-marker-pane .leaflet-marker-icon")).to_have_count(1)
    lat, lon = float(citizen.input_value("#lat")), float(citizen.input_value("#lon"))
    assert geo.distance_m(lat, lon, *TAP_TARGET) < 25, f"the pin is not where the tap was: {lat}, {lon}"
    expect(citizen.locator("#picker-status")).to_have_text(f"{lat:.6f}, {lon:.6f}")
    assert [r["id"] for r in found["reports"]] == [people["existing"]]

    live_box = citizen.locator(LIVE_BOX)
    expect(live_box).to_be_visible()
    suggestion = live_box.locator("li a", has_text=EXISTING_TITLE)
    expect(suggestion).to_have_attribute("href", f"/reports/{people['existing']}")
    expect(live_box.locator("li")).to_have_count(1)
    metres = int(re.search(r"(\d+)", live_box.locator("li .muted").inner_text()).group(1))
    assert 0 < metres < 250 and abs(metres - geo.distance_m(lat, lon, *EXISTING_POINT)) <= 1

    # Not the same problem: the photo, a title, a description, and send.
    citizen.set_input_files("#photos", str(photo))
    citizen.fill("#title", NEW_TITLE)
    citizen.fill("#description", NEW_DESCRIPTION)
    if phone:
        no_sideways_scroll(citizen, device, "the report form")
    shot(citizen, "form", device)
    send = citizen.locator(f"{REPORT_FORM} button[type=submit]")
    if english:
        expect(send).to_have_text("Send the report")
    first_label = send.inner_text()
    send.click()

    # The server asks again before saving, and keeps everything but the file.
    expect(citizen).to_have_url(live_server("/reports/new"))
    server_box = citizen.locator(SERVER_BOX)
    expect(server_box).to_be_visible()
    expect(server_box.locator("li a", has_text=EXISTING_TITLE)).to_have_attribute(
        "href", f"/reports/{people['existing']}")
    expect(citizen.locator(".flash-warning")).to_be_visible()
    assert [row[1] for row in report_rows(app)] == [EXISTING_TITLE], "a report was saved before the second step"
    expect(citizen.locator("#title")).to_have_value(NEW_TITLE)
    expect(citizen.locator("#description")).to_have_value(NEW_DESCRIPTION)
    expect(citizen.locator("#category_id")).to_have_value(str(people["category"]))
    expect(citizen.locator("#lat")).to_have_value(f"{lat:.6f}")
    expect(citizen.locator("#lon")).to_have_value(f"{lon:.6f}")
    expect(citizen.locator("input[name=confirmed_new]")).to_have_value("1")
    expect(citizen.locator(f"{PICKER} .leaflet-marker-pane .leaflet-marker-icon")).to_have_count(1)  # pin restored
    # The server's list above says it once; the live box under the category stays out of the way.
    expect(live_box).to_be_hidden()
    assert citizen.eval_on_selector("#photos", "el => el.files.length") == 0
    if english:
        expect(send).to_have_text("Send it anyway")
    expect(send).not_to_have_text(first_label)
    expect(send).not_to_have_text("")
    if phone:
        no_sideways_scroll(citizen, device, "the \"already reported?\" step")
    shot(citizen, "already-reported", device)

    citizen.set_input_files("#photos", str(photo))
    send.click()
    expect(citizen).to_have_url(re.compile(re.escape(live_server("/reports/")) + r"\d+$"))
    report_id = int(urlsplit(citizen.url).path.rsplit("/", 1)[1])
    report_path = f"/reports/{report_id}"
    expect(citizen.locator(".flash-success")).to_be_visible()
    expect(citizen.locator("#report-title")).to_have_text(NEW_TITLE)
    expect(citizen.locator(STATUS_BADGE)).to_have_class(re.compile(r"\bstatus-new\b"))
    expect(citizen.locator(TIMELINE)).to_have_count(1)
    rows = report_rows(app)
    assert len(rows) == 2
    new_row = rows[1]
    assert new_row[0] == report_id and new_row[1] == NEW_TITLE and new_row[2] == ReportStatus.new
    assert new_row[3] == people["department"]
    assert (round(new_row[4], 6), round(new_row[5], 6)) == (lat, lon)

    # The photo: shown as a loaded thumbnail linking to the full image, both stripped of EXIF (GPS!).
    thumbs = citizen.locator("#main .photo-list img")
    expect(thumbs).to_have_count(1)
    wait_until_loaded(citizen, thumbs.first)
    assert citizen.evaluate("img => img.naturalWidth", thumbs.first.element_handle()) > 0
    with app.app_context():
        photos = db.session.scalars(select(Photo).where(Photo.owner_type == "report", Photo.owner_id == report_id)
                                    ).all()
        keys = [(p.storage_key, p.thumb_key) for p in photos]
        db.session.remove()
    assert len(keys) == 1
    full_key, thumb_key = keys[0]
    expect(thumbs.first).to_have_attribute("src", f"/media/{thumb_key}")
    expect(citizen.locator("#main .photo-list a")).to_have_attribute("href", f"/media/{full_key}")
    uploads = Path(live_server.app.config["UPLOAD_DIR"])
    for key in (full_key, thumb_key):
        assert_no_metadata((uploads / key).read_bytes(), f"stored file {key}")
        served = citizen.request.get(f"/media/{key}")
        assert served.status == 200 and served.headers["content-type"] == "image/jpeg"
        assert_no_metadata(served.body(), f"/media/{key}")
    if phone:
        no_sideways_scroll(citizen, device, "the report page")
    shot(citizen, "page", device)

    # ---- 2. The official acknowledges, starts and resolves it --------------------------------------
    official = offline_page(new_page, device)
    sign_in(official, people["official"].email, live_server)
    official.goto(report_path)
    status_form = official.locator(f'#main form[action="{report_path}/status"]')
    expect(official.locator("#staff-title")).to_be_visible()
    if english:
        expect(official.locator("#staff-title")).to_have_text("Office actions")
    steps = [("acknowledged", ACK_NOTE), ("in_progress", WORK_NOTE), ("resolved", RESOLVED_NOTE)]
    for number, (status, note) in enumerate(steps, start=2):
        status_form.locator("#st-status").select_option(status)
        status_form.locator("#st-note").fill(note)
        status_form.locator("button[type=submit]").click()
        expect(official).to_have_url(live_server(report_path))
        expect(official.locator(".flash-success")).to_be_visible()
        expect(official.locator(STATUS_BADGE)).to_have_class(re.compile(rf"\bstatus-{status}\b"))
        expect(official.locator(TIMELINE)).to_have_count(number)
        expect(official.locator(TIMELINE).last.locator(".note")).to_have_text(note)
        if phone:
            no_sideways_scroll(official, device, f"the report page of the official ({status})")
    if english:
        expect(official.locator(TIMELINE).last).to_contain_text("Status: in progress → resolved")
    shot(official, "office", device)
    assert report_rows(app)[1][2] == ReportStatus.resolved

    # ---- 3. The citizen: notifications, the timeline, "is it really fixed?" ----------------------------
    citizen.goto("/notifications")
    expect(citizen.locator(UNREAD_BADGE)).to_have_text("3")
    notes = citizen.locator("#main .notification-list > li.notification")
    expect(notes).to_have_count(3)
    expect(citizen.locator("#main .notification-list > li.notification.unread")).to_have_count(3)
    for i in range(3):
        expect(notes.nth(i)).to_contain_text(NEW_TITLE)
    if english:
        expect(notes.nth(0)).to_contain_text(f"The report “{NEW_TITLE}” is now: resolved.")
        expect(notes.nth(1)).to_contain_text(f"The report “{NEW_TITLE}” is now: in progress.")
        expect(notes.nth(2)).to_contain_text(f"The report “{NEW_TITLE}” is now: acknowledged.")
    assert all(EXISTING_TITLE not in text for text in notes.all_inner_texts())
    if phone:
        no_sideways_scroll(citizen, device, "the notifications")
    shot(citizen, "notifications", device)

    open_button = notes.nth(0).locator('form[action$="/read"] button[type=submit]')
    if english:
        expect(open_button).to_have_text("Open")
    open_button.click()
    expect(citizen).to_have_url(live_server(report_path))
    expect(citizen.locator(UNREAD_BADGE)).to_have_text("2")
    expect(citizen.locator(STATUS_BADGE)).to_have_class(re.compile(r"\bstatus-resolved\b"))
    timeline = citizen.locator(TIMELINE)
    expect(timeline).to_have_count(4)
    for i, (_status, note) in enumerate(steps, start=1):
        expect(timeline.nth(i).locator(".note")).to_have_text(note)
    expect(citizen.locator("#fixed-title")).to_be_visible()
    if english:
        expect(citizen.locator("#fixed-title")).to_have_text("Is it really fixed?")
        expect(timeline.nth(1)).to_contain_text("Status: new → acknowledged")
    expect(citizen.locator("#staff-title")).to_have_count(0)  # the office's forms are the office's
    if phone:
        no_sideways_scroll(citizen, device, "the resolved report page")
    shot(citizen, "resolved", device)

    yes = citizen.locator(f'#main section.callout form[action="{report_path}/fixed"]:has(input[name=answer][value=yes]) '
                          "button[type=submit]")
    if english:
        expect(yes).to_have_text("Yes, it is fixed")
    yes.click()
    expect(citizen).to_have_url(live_server(report_path))
    expect(citizen.locator(STATUS_BADGE)).to_have_class(re.compile(r"\bstatus-closed\b"))
    expect(citizen.locator(TIMELINE)).to_have_count(5)
    expect(citizen.locator("#fixed-title")).to_have_count(0)
    if phone:
        no_sideways_scroll(citizen, device, "the closed report page")
    shot(citizen, "closed", device)
    assert report_rows(app)[1][2] == ReportStatus.closed
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id)).where(Report.status == ReportStatus.new)) == 1
        db.session.remove()

    # The neighbour's report was only suggested, never touched.
    existing = next(row for row in report_rows(app) if row[0] == people["existing"])
    assert existing[2] == ReportStatus.new

    assert site_problems(citizen) == []
    assert site_problems(official) == []
