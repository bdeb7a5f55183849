from django.urls import path

from custodia.protection import views

app_name = "protection"
urlpatterns = [
    path("catalog/", views.CatalogView.as_view(), name="catalog"),
]
