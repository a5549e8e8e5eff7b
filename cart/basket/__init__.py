"""cart.basket: what a shopper is about to buy.

`carts` says whose lines they are (an anonymous cart or an account) and adopts an
anonymous cart at login; `lines` adds, changes and re-checks lines against the
catalogue mirror; `totals` is pure: page carts, line statuses and Decimal subtotals;
`purge` forgets abandoned anonymous carts.
"""
