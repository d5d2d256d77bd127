"""Test machinery the suites share, beside tests/helpers.py (the plain helpers).

A package, not more of tests/helpers.py: with these the one module would pass
~400 lines, and each of these is a job of its own with its own threads or state:

- relay.py: a TCP relay that can be cut, and a black hole (tests/faults/).
- worker.py: a real Celery worker in a thread, and queueing imports for it
  (tests/records/imports/, tests/faults/, tests/e2e/).
- admin_urls.py: every URL the admin registers, with an object of the access
  tests' world to open (tests/access/, tests/security/).
- flush.py: the teardown of transactional tests, emptying only the tables they
  wrote to (tests/conftest.py).
"""
