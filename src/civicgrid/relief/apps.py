from django.apps import AppConfig


class ReliefConfig(AppConfig):
    name = "civicgrid.relief"
    label = "relief"
    verbose_name = "relief"

    def ready(self) -> None:
        from civicgrid.core.scoping import ScopeRule, register, register_task_households
        from civicgrid.relief import models as m
        from civicgrid.relief.selectors import task_households

        for model in (m.Need, m.RoundAllocation, m.DeliveryStop):
            register(model, ScopeRule(record_path="household__place_path", household="household_id"))
        register(m.NeedFiling, ScopeRule(record_path="need__household__place_path", household="need__household_id"))
        register(m.DeliveryAttempt, ScopeRule(record_path="stop__household__place_path",
                                              household="stop__household_id"))
        # stock is visible where it is kept and to the places it serves (a grid sees its community's point)
        register(m.DistributionPoint, ScopeRule(area_path="place__path", serving_area_path="place__path"))
        register(m.Lot, ScopeRule(area_path="point__place__path", serving_area_path="point__place__path"))
        register(m.LedgerEntry, ScopeRule(area_path="point__place__path", serving_area_path="point__place__path"))
        register(m.Offer, ScopeRule(area_path="point__place__path", actor="donor_id"))
        register(m.AllocationRound, ScopeRule(area_path="place__path", serving_area_path="place__path"))
        register(m.DeliveryTask, ScopeRule(area_path="place_path", actor="organisation_id"))
        register_task_households(task_households)
