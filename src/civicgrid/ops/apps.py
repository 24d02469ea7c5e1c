from civicgrid.core import plugins


class OpsConfig(plugins.CivicgridApp):
    name = "civicgrid.ops"
    label = "ops"
    verbose_name = "operations"

    def ready(self) -> None:
        super().ready()
        from django_q.signals import pre_execute

        from civicgrid.ops.jobs import on_job_start

        pre_execute.connect(on_job_start, dispatch_uid="civicgrid-job-log-context")
