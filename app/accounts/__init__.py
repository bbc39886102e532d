"""Accounts of trade associations and programme staff: login, logout,
registration, password resets, sessions and the access rules of their pages."""

from flask import Blueprint

# The account pages keep the addresses they always had, under /associations/.
bp = Blueprint("accounts", __name__, url_prefix="/<lang>/associations")

from . import views  # noqa: E402,F401  (registers the routes)
