from django.db import models


class Rollup(models.Model):
    """Subtree totals: value of `metric` over the whole subtree of `org` (the node included).

    Services add deltas to every ancestor of the row's node in the transaction that changes the
    row, so a national total is one indexed read, never a scan.
    """

    # Derived rows, rebuilt from the sources by rollup_rebuild: no database foreign key (checking one on
    # each insert locks the union's row FOR KEY SHARE: a WAL record per row on the union table, and a
    # multixact on the national row every writer shares); Django still deletes them with their union.
    # The (org, metric) unique index serves every lookup by union, so no index of its own either.
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="rollups", db_index=False,
                            db_constraint=False)
    metric = models.CharField(max_length=64)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "汇总计数"
        verbose_name_plural = "汇总计数"
        constraints = [models.UniqueConstraint(fields=["org", "metric"], name="rollup_org_metric")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.metric}={self.value}"


class DailyRollup(models.Model):
    """Subtree totals per day (new members per day, applications decided…), like Rollup."""

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+", db_index=False,
                            db_constraint=False)  # as Rollup.org
    metric = models.CharField(max_length=64)
    day = models.DateField()
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "每日汇总计数"
        verbose_name_plural = "每日汇总计数"
        constraints = [models.UniqueConstraint(fields=["org", "metric", "day"], name="dailyrollup_org_metric_day")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.metric} {self.day}={self.value}"


class RollupDelta(models.Model):
    """A change to a Rollup total not yet folded into it: writers append (org, metric, +/-n) here
    instead of updating the shared total rows, so a writer never waits for another's row lock (every
    write below a province touches that province's and the national rows) and a bulk job's batch
    writes a few appended pages instead of a page per ancestor row. Readers add the unfolded rows
    (rollups.rollup_values); `rollup_fold` moves them into Rollup, run by the periodic job every few
    seconds, so the table stays small."""

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    metric = models.CharField(max_length=64)
    value = models.BigIntegerField()

    class Meta:
        verbose_name = "汇总计数增量"
        verbose_name_plural = "汇总计数增量"

    def __str__(self) -> str:
        return f"{self.org_id} {self.metric}{self.value:+d}"
