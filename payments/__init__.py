"""payments: taking money.

Owns the payment-provider protocol, the SumUp client, and a SumUp sandbox (a real HTTP
app that speaks the same API subset) used when no SumUp credentials are set. Knows
amounts and references, never carts. Imports nothing of ours.
"""
