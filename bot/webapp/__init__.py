"""The Mini App: a dashboard opened from the menu button, and spending confirmed in the app.

Served by the same aiohttp server as the webhook (``bot/runtime/webhook.py`` mounts it under
``/app/``): a static page with no build step, and a JSON API that reads through the services.
"""
