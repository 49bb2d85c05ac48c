from django.urls import path

from . import views

app_name = "console"

# Ids are taken as text and resolved by the selectors, so an unknown or malformed id is the
# console's own 404 page, the same as an id outside the actor's scope.
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("security/", views.security, name="security"),
    path("search/", views.search, name="search"),
    path("audit/", views.audit, name="audit"),
    path("orgs/<str:org_id>/", views.org_detail, name="org_detail"),
    path("orgs/<str:org_id>/children/", views.org_children, name="org_children"),
    path("orgs/<str:org_id>/employers/", views.org_employers, name="org_employers"),
    path("orgs/<str:org_id>/edit/", views.union_edit, name="union_edit"),
    path("orgs/<str:org_id>/unions/new/", views.union_create, name="union_create"),
    path("orgs/<str:org_id>/employers/new/", views.employer_create, name="employer_create"),
    path("orgs/<str:org_id>/move/", views.org_move, name="org_move"),
    path("orgs/<str:org_id>/grants/new/", views.grant_create, name="grant_create"),
    path("orgs/<str:org_id>/staff/new/", views.staff_create, name="staff_create"),
    path("grants/<str:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("employers/<str:employer_id>/", views.employer_detail, name="employer_detail"),
    path("employers/<str:employer_id>/edit/", views.employer_edit, name="employer_edit"),
]
