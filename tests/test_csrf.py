"""With CSRF protection on (as in production), every state-changing endpoint refuses a POST without a token."""
import re

import pytest
from flask import url_for

from app import create_app
from tests.conftest import login, make_config
from tests.test_access_matrix import ACCESS, SAMPLE_ARGS

#: Endpoints for programs, not browsers: no cookie session authorises them (a bearer token, an
#: Open311 api_key, or the credentials in the request itself), so CSRF tokens do not apply.
EXEMPT = {"api.create_report", "api.create_token", "open311.create_request", "api.support_proposal",
          "api.withdraw_support", "api.flag_content", "api.create_comment", "api.join_pact", "api.leave_pact"}

#: open311.not_found answers every method on unknown /open311/ paths; it changes nothing.
STATE_CHANGING = sorted(
    endpoint for endpoint in ACCESS
    if endpoint not in EXEMPT
    and (endpoint != "static" and ACCESS[endpoint][1] == "POST" or endpoint in {
        "auth.register", "auth.login", "auth.forgot_password", "auth.reset_password", "auth.confirm_email",
        "account.profile", "account.change_password", "account.change_email", "account.confirm_email_change",
        "account.delete", "reports.new", "admin.process_new", "admin.process_edit",
        "assisted.claim", "assisted.assist_code",
    })
)


@pytest.fixture(scope="module")
def csrf_app(database_url, tmp_path_factory):
    return create_app(make_config(database_url, tmp_path_factory.mktemp("csrf"), WTF_CSRF_ENABLED=True))


def test_every_endpoint_accepting_post_is_covered(csrf_app):
    posting = {rule.endpoint for rule in csrf_app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    assert posting - EXEMPT == set(STATE_CHANGING) | {"open311.not_found"}


def test_exactly_the_program_endpoints_are_exempt(csrf_app):
    from app.extensions import csrf

    exempt = {endpoint for endpoint, view in csrf_app.view_functions.items()
              if f"{view.__module__}.{view.__name__}" in csrf._exempt_views}
    assert exempt == EXEMPT


@pytest.mark.parametrize("endpoint", STATE_CHANGING)
def test_post_without_token_is_refused(csrf_app, make_user, endpoint):
    client = csrf_app.test_client()
    admin = make_user(roles=["admin", "citizen"])
    login(client, admin)
    rule = next(csrf_app.url_map.iter_rules(endpoint))
    with csrf_app.test_request_context():
        url = url_for(endpoint, **{arg: SAMPLE_ARGS[arg] for arg in rule.arguments})
    response = client.post(url, data={"email": admin.email, "password": "x"})
    assert response.status_code == 400
    assert 'class="error-page"' in response.text


def test_logout_with_a_valid_token_works_and_without_does_not(csrf_app, make_user):
    client = csrf_app.test_client()
    user = make_user()
    login(client, user)
    assert client.post("/logout").status_code == 400
    assert client.get("/account/").status_code == 200  # still signed in
    page = client.get("/account/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/account/").status_code == 302  # signed out now


def test_csrf_referrer_check_is_strict_over_https(csrf_app):
    assert csrf_app.config.get("WTF_CSRF_SSL_STRICT", True) is True
    response = csrf_app.test_client().get("/")
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_csrf_failure_page_explains_what_to_do_in_the_visitors_language(csrf_app):
    response = csrf_app.test_client().post("/login?lang=en", data={})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "reload the page and send it again" in response.text
    italian = csrf_app.test_client().post("/login", data={})
    assert 'lang="it"' in italian.text
    assert "reload the page" not in italian.text
