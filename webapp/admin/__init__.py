"""The administration (/admin): national administrators create partner organisations and their
first manager, approve and stop offers, and withdraw one offer from one card. Admins only."""

from webapp.admin.views import blueprint

__all__ = ["blueprint"]
