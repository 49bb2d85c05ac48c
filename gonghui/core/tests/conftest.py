from gonghui.accounts.tests.conftest import clock  # noqa: F401  (fixture)
from gonghui.orgs.tests.world import world  # noqa: F401  (fixture)
