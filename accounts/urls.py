"""The accounts pages. A controller's host serves all of them (``urlpatterns``); the
platform host only the personal ones (``personal_urlpatterns``, config/urls_public.py),
so staff pages there are a plain 404."""

from django.urls import path

from accounts.views import login, profile, staff

app_name = "accounts"

# Log-in and one's own account: every host, the platform's included.
personal_urlpatterns = [
    path("login/", login.login_view, name="login"),
    path("verify/", login.verify_view, name="verify"),
    path("enroll/", login.enroll_view, name="enroll"),
    path("logout/", login.logout_view, name="logout"),
    path("language/", login.set_language_view, name="set_language"),
    path("profile/", profile.profile_view, name="profile"),
    path("profile/password/", profile.password_change_view, name="password_change"),
    path("backup-codes/", profile.backup_codes_view, name="backup_codes"),
]

# A controller's staff and their invitation links: controller hosts only.
tenant_urlpatterns = [
    path("invitation/<str:token>/", login.invitation_view, name="invitation"),
    path("staff/", staff.staff_list_view, name="staff"),
    path("staff/invite/", staff.staff_invite_view, name="staff_invite"),
    path("staff/<int:pk>/", staff.staff_update_view, name="staff_update"),
    path(
        "staff/<int:pk>/invitation/resend/",
        staff.staff_invitation_resend_view,
        name="staff_invitation_resend",
    ),
    path(
        "staff/<int:pk>/invitation/revoke/",
        staff.staff_invitation_revoke_view,
        name="staff_invitation_revoke",
    ),
    path(
        "staff/<int:pk>/reset-authenticator/",
        staff.staff_device_reset_view,
        name="staff_device_reset",
    ),
]

urlpatterns = personal_urlpatterns + tenant_urlpatterns
