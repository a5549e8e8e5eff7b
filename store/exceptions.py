"""Errors of the store package.

StoreError
├── UnsupportedDatabase   the database URL names an engine we do not run on
├── MigrationError        the schema could not be brought up to date
└── IllegalTransition     a state machine was asked for a move it does not declare
"""


class StoreError(Exception):
    pass


class UnsupportedDatabase(StoreError):
    pass


class MigrationError(StoreError):
    pass


class IllegalTransition(StoreError):
    def __init__(self, machine: str, current: str, target: str) -> None:
        super().__init__(f"{machine}: cannot move from {current!r} to {target!r}")
        self.machine = machine
        self.current = current
        self.target = target
