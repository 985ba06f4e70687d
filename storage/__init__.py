"""The only package that talks SQL: engine, tables, queries and the bot-state store."""
