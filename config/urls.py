from django.contrib import admin
from django.urls import include, path

from gonghui.core.api import api

urlpatterns = [
    path("api/", api.urls),
    path("sysadmin/", admin.site.urls),
    path("console/", include("gonghui.console.urls")),
    path("", include("gonghui.portal.urls")),
]
