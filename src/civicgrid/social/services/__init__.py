"""The social app's writes (see README: services write, selectors read), split by concern."""

from civicgrid.social.services.admission import admission_apply, admission_decide
from civicgrid.social.services.register import (
    assessment_record,
    complaint_file,
    complaint_resolve,
    credit_code_clean,
    evidence,
    funding_record,
    organisation_register,
    organisation_verify,
    stage_change,
    training_record,
)

__all__ = ["admission_apply", "admission_decide", "assessment_record", "complaint_file", "complaint_resolve",
           "credit_code_clean", "evidence", "funding_record", "organisation_register", "organisation_verify",
           "stage_change", "training_record"]
