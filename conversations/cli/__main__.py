"""`python -m conversations.cli` is the `fieldbot` command."""

from conversations.cli import main

raise SystemExit(main())
