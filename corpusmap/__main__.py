"""``python -m corpusmap`` runs the command line."""

from corpusmap.cli import main

main()
