"""FHIR R4 for NHS systems (docs/fhir.md): a ServiceRequest in, the same referral intake as
``POST /api/v1/referrals``, and the referral back as a ServiceRequest and a Task.

The resource models are fhir.resources' R4B ones (no maintained library ships pure R4 models;
the resources used here are unchanged from R4 to R4B). Nothing here reads the request or the
database session: the API layer (``api/fhir.py``) does.
"""
