"""Imports every module that defines tables, so Alembic sees the whole schema."""

from digigov.catalog import models as catalog_models  # noqa: F401
from digigov.core import audit, workdays, workflow  # noqa: F401
from digigov.datastore import models as datastore_models  # noqa: F401
from digigov.governance import models as governance_models  # noqa: F401
from digigov.identity import models  # noqa: F401
from digigov.opendata import models as opendata_models  # noqa: F401
from digigov.policy import models as policy_models  # noqa: F401
from digigov.sharing import models as sharing_models  # noqa: F401
