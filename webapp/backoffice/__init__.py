"""The chambers' back office (/office): registry officers run their region's register and its
cards, national administrators the whole country's. Officers and admins only; an officer asking
for another region's record gets 404 (services/scope.py), never 403, so nothing leaks.

The blueprint is defined in views.py; each feature's routes live in their own module here and are
registered on it by importing the module."""

from webapp.backoffice import (  # noqa: F401 (each registers its routes on the blueprint)
    activation,
    card_checks,
    exports,
    imports,
    jobs,
    photos,
    print_batches,
    register,
    requests,
    rollout,
)
from webapp.backoffice.views import blueprint

__all__ = ["blueprint"]
