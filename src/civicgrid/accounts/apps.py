from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "civicgrid.accounts"
    label = "accounts"
    verbose_name = "accounts and roles"
