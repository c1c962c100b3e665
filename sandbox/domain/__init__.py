"""Logic that is not HTTP: simulated payments, chat replies, webhook events, signing and delivery.

Never imports Flask; handlers call in, and the delivery worker runs on its own thread.
"""
