from django.db import models


class Rollup(models.Model):
    """Subtree totals: value of `metric` over the whole subtree of `org` (the node included).

    Services add deltas to every ancestor of the row's node in the transaction that changes the
    row, so a national total is one indexed read, never a scan.
    """

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="rollups")
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

    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=64)
    day = models.DateField()
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "每日汇总计数"
        verbose_name_plural = "每日汇总计数"
        constraints = [models.UniqueConstraint(fields=["org", "metric", "day"], name="dailyrollup_org_metric_day")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.metric} {self.day}={self.value}"
