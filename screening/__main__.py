"""``python -m screening`` runs the ``screen`` command."""

from screening.cli import entry_point

entry_point()
