from gonghui.accounts.tests.conftest import clock  # noqa: F401  (fixture)
from gonghui.orgs.tests.world import world, world_once  # noqa: F401  (fixtures)
