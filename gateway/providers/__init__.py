"""Provider adapters: one module per SMS provider, each a blueprint in the same fixed order.

verify signature -> decode into a typed value -> normalise the addresses -> call the consent path -> answer.
"""
