from civicgrid.core import plugins


class EvaluationConfig(plugins.CivicgridApp):
    name = "civicgrid.evaluation"
    label = "evaluation"
    verbose_name = "evaluation"
