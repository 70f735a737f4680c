from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("verify/", views.verify_view, name="verify"),
    path("enroll/", views.enroll_view, name="enroll"),
    path("logout/", views.logout_view, name="logout"),
    path("backup-codes/", views.backup_codes_view, name="backup_codes"),
    path("invitation/<str:token>/", views.invitation_view, name="invitation"),
    path("language/", views.set_language_view, name="set_language"),
    path("profile/", views.profile_view, name="profile"),
    path("staff/", views.staff_list_view, name="staff"),
    path("staff/invite/", views.staff_invite_view, name="staff_invite"),
    path("staff/<int:pk>/", views.staff_update_view, name="staff_update"),
]
