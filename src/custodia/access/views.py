"""Sign-in and sign-out; both are audited."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from custodia.access import services


class LoginView(auth_views.LoginView):
    public = True
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        services.login_record(user=form.get_user())
        return response

    def form_invalid(self, form):
        services.login_failed_record(username=form.data.get("username", ""))
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    public = True

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            services.logout_record(user=request.user)
        return super().post(request, *args, **kwargs)
