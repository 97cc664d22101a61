"""`python -m services.cli`: the same commands as `newswire`."""

from services.cli import main

main()
