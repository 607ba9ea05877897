"""The consent path of one inbound message, the local spool it falls back on, and scope clarification.

path.py (InboundPath, built once in create_app) is the place to start reading; general.py records a
decided message, spool.py keeps and replays messages while the database is down, clarify.py asks
which topics a STOP covers, replylimits.py reads the auto-reply limits.

May import gateway.messages, gateway.addresses, gateway.ops.metrics, keywords and storage; never
gateway.providers, gateway.api or the pages (they call in here).
"""

from gateway.inbound.path import InboundPath

__all__ = ["InboundPath"]
