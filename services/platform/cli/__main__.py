"""``python -m services.platform.cli``: the ``crm`` command without the console script."""

from services.platform.cli import main

main()
