from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The example site's development helpers: the demo account command and the phone simulator."""

    name = "example_project.demo"
    label = "demo"
    verbose_name = "Demo"
    default_auto_field = "django.db.models.BigAutoField"
