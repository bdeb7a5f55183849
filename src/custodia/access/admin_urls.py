"""The security-admin pages (namespace "access", under /security/). Sign-in and sign-out routes
live in access/urls.py."""

from django.urls import path

from custodia.access import admin_views as views

app_name = "access"
urlpatterns = [
    path("roles/", views.RoleListView.as_view(), name="roles"),
    path("roles/new/", views.RoleCreateView.as_view(), name="role_create"),
    path("roles/<uuid:pk>/", views.RoleDetailView.as_view(), name="role_detail"),
    path("roles/<uuid:pk>/grants/new/", views.GrantCreateView.as_view(), name="grant_create"),
    path("grants/<uuid:pk>/", views.GrantEditView.as_view(), name="grant_edit"),
    path("grants/<uuid:pk>/delete/", views.GrantDeleteView.as_view(), name="grant_delete"),
    path("people/", views.PeopleView.as_view(), name="people"),
    path("people/<uuid:pk>/", views.PersonEditView.as_view(), name="person_edit"),
    path("people/<uuid:pk>/status/", views.PersonStatusView.as_view(), name="person_status"),
]
