"""The moderators' pages: the queue, a case, decisions, appeals, the word list (see routes.py for the public ones)."""
