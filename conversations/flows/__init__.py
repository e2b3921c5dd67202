"""One module per conversation (its handlers and state table), and what every flow shares."""
