"""Errors of the store package.

StoreError
├── UnsupportedDatabase   the database URL names an engine we do not run on
└── MigrationError        the schema could not be brought up to date
"""


class StoreError(Exception):
    pass


class UnsupportedDatabase(StoreError):
    pass


class MigrationError(StoreError):
    pass
