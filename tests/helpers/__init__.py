"""What the tests share that is not a fixture: plain modules, imported by name
(`from tests.helpers.api import follow`). Fixtures live in conftest.py; a test module imports
from here, never from another test module."""
