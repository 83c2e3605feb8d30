"""Storage: models, repositories and migrations."""

# Importing the models package registers every table on its Base, so Base.metadata
# (migrations, tests) always holds every table, whichever module was imported first.
from storage import models as _models  # noqa: F401
