"""Monthly reimbursement packs."""
