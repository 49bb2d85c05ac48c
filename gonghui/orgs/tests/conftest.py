from gonghui.orgs.tests.world import world, world_once  # noqa: F401  (fixtures)
