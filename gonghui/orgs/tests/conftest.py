from gonghui.orgs.tests.world import world  # noqa: F401  (fixture)
