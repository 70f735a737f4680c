import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from config.startup import refuse_unsafe_database  # noqa: E402  (needs the settings loaded)

refuse_unsafe_database()
