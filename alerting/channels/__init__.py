"""Notification channels (Slack, e-mail, outgoing webhooks) behind one small protocol."""
