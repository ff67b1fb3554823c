"""Put first on ``PYTHONPATH``, this module makes ``import redis`` fail as it does
where the redis package (the ``redis`` extra) is not installed."""

raise ModuleNotFoundError("No module named 'redis'", name="redis")
