"""Tools for the fault-tolerance suite (kill -9, a database that goes away, fuzzed activities).

- `talk`: a Teams user talking to a bot process over HTTP, and the typed report to talk through.
- `store`: what the database holds afterwards, and the invariants that must hold whatever died.
- `pg_holds`: hold points inside PostgreSQL transactions (test-only triggers on advisory
  locks), to kill the bot at a known statement instead of after a guessed delay.
- `tests/tcp_proxy.py`: a proxy between the bot and PostgreSQL that can cut the database.
"""
