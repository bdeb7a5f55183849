"""Access URLs. Sign-in and sign-out live in ``custodia.identity.urls`` (django-allauth)."""

urlpatterns: list = []
