"""Code hosts (GitHub) behind one port: pull requests, reviews, CI checks and merges, in the procedure's
terms."""
