from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django_otp import user_has_device

API_PREFIX = "/api/"


class RequireVerifiedDeviceMiddleware:
    """No page beyond log-in and enrolment without a verified second factor.

    Runs after django-otp's ``OTPMiddleware``: a user who has given a password
    but no OTP is sent to verify (or, with no device yet, to enrol).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # The API authenticates controller systems by token, not people by session.
        if getattr(view_func, "otp_exempt", False) or request.path.startswith(API_PREFIX):
            return None
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.is_verified():
            return None
        if user_has_device(user):
            return redirect_to_login(request.get_full_path(), login_url="accounts:verify")
        return redirect("accounts:enroll")
