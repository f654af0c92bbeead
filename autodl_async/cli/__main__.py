"""``python -m autodl_async.cli`` runs the same tool as ``autodl-async``."""

from . import main

main()
