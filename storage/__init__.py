"""Storage: models, repositories and migrations."""

# Every table module registers itself on storage.models.Base when the package is imported, so
# Base.metadata (migrations, tests) always holds every table.
from storage import models_aftercare as _models_aftercare  # noqa: F401
from storage import models_membership as _models_membership  # noqa: F401
