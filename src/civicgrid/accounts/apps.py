from civicgrid.core import plugins


class AccountsConfig(plugins.CivicgridApp):
    name = "civicgrid.accounts"
    label = "accounts"
    verbose_name = "accounts and roles"
