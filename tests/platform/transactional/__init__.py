"""Tests whose writes are committed and outlive the test: transactional tests (threads with their own
connections; the database is emptied afterwards) and the browser test whose live server commits. They
run after every other test that uses the session's shared community: ``tests/conftest.py`` puts the items
collected from this folder last (``pytest_collection_modifyitems``), the browser test before the ones
that empty the database."""
