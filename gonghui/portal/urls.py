from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.sms_code_view, name="sms_code"),
    path("logout/", views.logout_view, name="logout"),
    path("me/edit/", views.profile_edit, name="profile_edit"),
    path("privacy/", views.privacy, name="privacy"),
]
