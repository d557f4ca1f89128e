"""Profile, password and email changes, sign-out everywhere, data download, deletion."""
import json

from flask import Response, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.account import bp, services
from app.account.forms import ChangeEmailForm, ChangePasswordForm, DeleteAccountForm, ProfileForm
from app.auth import services as auth_services
from app.auth.access import login_required, public
from app.auth.forms import ButtonForm
from app.auth.tokens import InvalidToken
from app.extensions import db
from app.http import reset_session
from app.models.base import DomainError, utcnow
from app.notifications.services import follows_of


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile():
    """The user's profile and preferences."""
    form = ProfileForm(obj=current_user)
    # Once confirmed with the identity, the date of birth is only shown (see update_profile).
    birth_editable = not (current_user.is_verified and current_user.birth_date is not None)
    if not form.is_submitted():
        form.notification_pref.data = current_user.notification_pref.value
        form.locale.data = current_user.locale or "it"
    if form.validate_on_submit():
        try:
            services.update_profile(current_user, display_name=form.display_name.data, bio=form.bio.data,
                                    locale=form.locale.data, notification_pref=form.notification_pref.data,
                                    birth_date=form.birth_date.data if birth_editable else current_user.birth_date)
        except DomainError as exc:
            getattr(form, exc.details.get("field") or "display_name").errors.append(exc.message)
        else:
            db.session.commit()
            session["lang"] = current_user.locale
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form, button=ButtonForm(),
                           follows=follows_of(current_user), birth_editable=birth_editable)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password; every other session ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            auth_services.change_password(current_user, form.current_password.data, form.password.data)
        except auth_services.InvalidCredentials as exc:
            form.current_password.errors.append(exc.message)
        except auth_services.WeakPassword as exc:
            form.password.errors.append(exc.message)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session carries on with the new version
            flash(_("Your password is changed. Other devices have been signed out."), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form)


@bp.route("/email", methods=["GET", "POST"])
@login_required
def change_email():
    """Ask to change the email address; a link goes to the new one."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            auth_services.request_email_change(current_user, form.password.data, form.new_email.data)
        except auth_services.InvalidCredentials as exc:
            form.password.errors.append(exc.message)
        except DomainError as exc:
            form.new_email.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("We sent a link to %(email)s. Your address changes when you open it.",
                    email=form.new_email.data.strip()), "success")
            return redirect(url_for("account.profile"))
    return render_template("account/email.html", form=form)


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_email_change(token):
    """Confirm a new email address from the emailed link (a POST button, not the GET itself)."""
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            auth_services.confirm_email_change(token)
        except InvalidToken:
            return render_template("auth/bad_link.html"), 400
        except DomainError as exc:
            flash(exc.message, "error")
            return redirect(url_for("main.index"))
        db.session.commit()
        flash(_("Your new email address is confirmed."), "success")
        return redirect(url_for("account.profile") if current_user.is_authenticated else url_for("auth.login"))
    return render_template("auth/confirm.html", form=form, email_change=True)


@bp.route("/sessions/end-all", methods=["POST"])
@login_required
def end_all_sessions():
    """Sign out on every device, this one included."""
    if ButtonForm().validate_on_submit():
        auth_services.end_all_sessions(current_user)
        db.session.commit()
        logout_user()
        reset_session()
        flash(_("You are signed out on every device."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/data.json")
@login_required
def download_data():
    """Everything Piazza holds about the user, as a JSON download."""
    data = services.export_data(current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    stamp = utcnow().strftime("%Y%m%d")
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="piazza-my-data-{stamp}.json"'})


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    """Delete the account: personal data erased, contributions kept anonymously."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            services.delete_account(current_user, form.password.data)
        except auth_services.InvalidCredentials as exc:
            form.password.errors.append(exc.message)
        except DomainError as exc:
            form.confirm.errors.append(exc.message)
        else:
            db.session.commit()
            logout_user()
            reset_session()
            flash(_("Your account is deleted. Thank you for taking part."), "success")
            return redirect(url_for("main.index"))
    return render_template("account/delete.html", form=form)
