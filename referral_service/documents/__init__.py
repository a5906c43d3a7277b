"""Supporting documents' plumbing: what a file is (by its content), where its bytes are kept,
and the virus scanner. The rules (who may, how many, what is audited) are in
``referral_service.domain.documents``."""
