"""The field macro writes only the ARIA attributes that apply (WTForms renders None as the text "None")."""


def test_fields_without_hint_or_error_have_no_none_attributes(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="email"' in html
    assert '"None"' not in html
    assert "aria-invalid" not in html


def test_a_field_with_an_error_is_described_by_it(client):
    html = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="email-error"' in html
    assert '"None"' not in html
