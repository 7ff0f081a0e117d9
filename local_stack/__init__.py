"""The whole helpdesk on a laptop: emulated AWS, every service's API on one port, events through
the real rules and queues, schedules, an SMTP port, and the mail the system sent.
"""
