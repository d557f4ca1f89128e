"""Registration, confirmation, login, logout, password reset."""
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_limiter.util import get_remote_address

from app.auth import bp, services
from app.auth.access import login_required, public
from app.auth.forms import ButtonForm, ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from app.auth.tokens import InvalidToken
from app.extensions import db, limiter
from app.http import reset_session, safe_next
from app.kiosk.context import end_visit, on_kiosk
from app.models.base import DomainError


def _login_key():
    """Failed logins are counted per account *and* address, so nobody can lock a victim out."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"login:{email}|{get_remote_address()}"


def _failed(response):
    return response.status_code != 302


def start_session(user, remember=False):
    """Log the user in on a fresh session (regenerated: nothing from before carries over)."""
    reset_session()
    session.pop("_remember", None)
    login_user(user, remember=remember)
    session.permanent = True


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["REGISTER_LIMIT"], methods=["POST"])
def register():
    """Create an account; the confirmation link goes out by email."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            services.register(form.display_name.data, form.email.data, form.password.data,
                              locale=str(get_locale()))
        except services.WeakPassword as exc:
            form.password.errors.append(exc.message)
        except DomainError as exc:
            form.email.errors.append(exc.message)
        else:
            db.session.commit()
            return render_template("auth/check_email.html", email=form.email.data.strip())
    return render_template("auth/register.html", form=form)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_email(token):
    """Show a button that confirms the address (a POST, so link scanners don't confirm)."""
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            user = services.confirm_email(token)
        except InvalidToken:
            return render_template("auth/bad_link.html"), 400
        db.session.commit()
        flash(_("Thank you, your email address is confirmed."), "success")
        if current_user.is_authenticated and current_user.id == user.id:
            return redirect(url_for("main.index"))
        return redirect(url_for("auth.login"))
    return render_template("auth/confirm.html", form=form)


@bp.route("/confirm/resend", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["EMAIL_LIMIT"])
def resend_confirmation():
    """Send the confirmation link again."""
    if not ButtonForm().validate_on_submit():
        return redirect(url_for("account.profile"))
    if current_user.is_confirmed:
        flash(_("Your email address is already confirmed."), "info")
    else:
        services.send_confirmation(current_user)
        db.session.commit()
        flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("account.profile"))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"], methods=["POST"],
               key_func=_login_key, deduct_when=_failed)
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as exc:
            form.password.errors.append(exc.message)
        else:
            db.session.commit()
            start_session(user, remember=form.remember.data and not on_kiosk())  # never on a shared computer
            if not user.is_confirmed:
                flash(_("Please confirm your email address: we sent you a link."), "warning")
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST with CSRF token; a GET link could be forged)."""
    if ButtonForm().validate_on_submit():
        if on_kiosk():  # a shared computer forgets everything of this person
            end_visit(idle=request.form.get("idle") == "1")
        else:
            logout_user()
            reset_session()
            flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["EMAIL_LIMIT"], methods=["POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same whether the account exists or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("auth/check_email.html", email=form.email.data.strip(), reset=True)
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token):
    """Choose a new password from an emailed link (single use, expires)."""
    try:
        services.user_for_reset_token(token)
    except InvalidToken:
        return render_template("auth/bad_link.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except services.WeakPassword as exc:
            form.password.errors.append(exc.message)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password is changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)

