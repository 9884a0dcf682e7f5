"""`make aws-acceptance`: settles on a real AWS account what the local AWS can only assume
(local_aws/assumptions.py), and says which assumption to change where AWS differs. Opt-in and never in CI:
it makes a few cents' worth of resources of its own, and deletes them. See docs/operations.md.

`cli` parses and reports, `run` runs it, `cost` prices it, `sandbox` makes what the checks run in, `checks`
asks the four questions, `ledger` keeps what was made for its deletion.
"""
