"""The tests' URLs mounted under /under/: an address reversed under one URL
configuration is not reused under another."""

from django.urls import include, path

urlpatterns = [path("under/", include("tests.package_urls"))]
