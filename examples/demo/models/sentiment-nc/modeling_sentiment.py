"""Placeholder custom model code (demo only): trust_remote_code would import this module."""


class SentimentModel:
    def __init__(self, config=None):
        self.config = config
