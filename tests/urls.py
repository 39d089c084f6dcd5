from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.testapp import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("custom-login/", views.custom_login, name="custom-login"),
    path("private/", views.private, name="private"),
    path("api/whoami/", views.WhoAmI.as_view(), name="whoami"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(success_url="/"), name="password-change"),
    path("sensitive/", views.sensitive, name="sensitive"),
    path("sensitive-cbv/", views.SensitiveView.as_view(), name="sensitive-cbv"),
    path("api/sensitive/", views.SensitiveAPI.as_view(), name="sensitive-api"),
    path("api/token-whoami/", views.TokenWhoAmI.as_view(), name="token-whoami"),
    path("api/sensitive-token/", views.SensitiveTokenAPI.as_view(), name="sensitive-token-api"),
    path("api/jwt-whoami/", views.JWTWhoAmI.as_view(), name="jwt-whoami"),
    path("admin/", admin.site.urls),
    path("mfa/", include("django_pushmfa.urls")),
]
